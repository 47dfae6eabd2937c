"""MaxPool1D and MaxPool2D: the maximum over each window of the spatial axes (channels-last).

Shapes: 1D ``(L, C)`` -> ``(L', C)``; 2D ``(H, W, C)`` -> ``(H', W', C)``; ``L' = ceil(L / s)`` for
'same', ``floor((L - k) / s) + 1`` for 'valid'. No parameters. Fields: ``pool_size`` (int or one
per spatial axis, default 2), ``strides`` (default: ``pool_size``), ``padding`` valid (default) |
same. 'same' pads as TensorFlow (extra cell at the end) with -inf, so pads never win.
"""
from __future__ import annotations

from typing import Literal

from ..spec.layer import Case
from ..spec.registry import register
from ._pool import PoolBase


@register
class MaxPool2D(PoolBase):
    kind = "MaxPool2D"
    spatial_rank = 2
    nd = 2
    op = "max"
    type: Literal["MaxPool2D"] = "MaxPool2D"

    @classmethod
    def cases(cls):
        return [
            Case({"pool_size": 2}, [(7, 6, 3)], "k2_odd_valid"),
            Case({"pool_size": [3, 2], "strides": [2, 1], "padding": "same"}, [(7, 5, 2)], "rect_same_stride_ne_pool"),
            Case({"pool_size": 3, "strides": 2, "padding": "same"}, [(8, 7, 2)], "k3_s2_same_asym"),
            Case({"pool_size": 2, "strides": 3}, [(9, 8, 2)], "stride_gt_pool"),
        ]
