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
class AvgPool1D(PoolBase):
    kind = "AvgPool1D"
    spatial_rank = 1
    nd = 1
    op = "avg"
    type: Literal["AvgPool1D"] = "AvgPool1D"

    @classmethod
    def cases(cls):
        return [
            Case({"pool_size": 3}, [(11, 3)], "k3_valid"),
            Case({"pool_size": 2, "strides": 1, "padding": "same"}, [(9, 2)], "k2_s1_same"),
            Case({"pool_size": 4, "strides": 3, "padding": "same"}, [(10, 2)], "k4_s3_same"),
        ]
