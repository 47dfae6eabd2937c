"""AvgPool1D and AvgPool2D: the mean over each window of the spatial axes (channels-last).

Shapes: 1D ``(L, C)`` -> ``(L', C)``; 2D ``(H, W, C)`` -> ``(H', W', C)``; ``L' = ceil(L / s)`` for
'same', ``floor((L - k) / s) + 1`` for 'valid'. No parameters. Fields: ``pool_size`` (int or one
per spatial axis, default 2), ``strides`` (default: ``pool_size``), ``padding`` valid (default) |
same. 'same' pads as TensorFlow (extra cell at the end) and **padded cells are excluded from the
divisor** (TF/Keras semantics, ONNX ``count_include_pad=0``), so border windows average only real
cells. PyTorch's default ``count_include_pad=True`` differs; the torch lowering emulates xnn's rule.
"""
from __future__ import annotations

from typing import Literal

from ..spec.layer import Case
from ..spec.registry import register
from ._pool import PoolBase


@register
class AvgPool2D(PoolBase):
    kind = "AvgPool2D"
    spatial_rank = 2
    nd = 2
    op = "avg"
    type: Literal["AvgPool2D"] = "AvgPool2D"

    @classmethod
    def cases(cls):
        return [
            Case({"pool_size": 2}, [(7, 6, 3)], "k2_odd_valid"),
            Case({"pool_size": [3, 2], "strides": [2, 1], "padding": "same"}, [(7, 5, 2)], "rect_same_stride_ne_pool"),
            Case({"pool_size": 3, "strides": 2, "padding": "same"}, [(8, 7, 2)], "k3_s2_same_asym"),
            Case({"pool_size": 3, "strides": 1, "padding": "same"}, [(5, 4, 2)], "k3_s1_same_sym"),
            Case({"pool_size": 2, "strides": 3}, [(9, 8, 2)], "stride_gt_pool"),
        ]
