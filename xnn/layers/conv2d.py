"""Conv1D and Conv2D (stride, padding valid/same/explicit, dilation, groups, depthwise).

Shapes (channels-last): Conv1D ``(L, C)`` -> ``(L', filters)``; Conv2D ``(H, W, C)`` ->
``(H', W', filters)``. Canonical params: ``weight (filters, C/groups, *kernel)`` and
``bias (filters,)``, init U(±1/sqrt(C/groups * prod(kernel))) (PyTorch's).
'same' pads as TensorFlow does (extra cell at the end), also with even kernels and stride > 1.
Depthwise: ``groups = C`` and ``filters = C * multiplier``.
"""
from __future__ import annotations

from typing import Literal

from ..spec.layer import Case
from ..spec.registry import register
from ._conv_base import _ConvBase


@register
class Conv2D(_ConvBase):
    kind = "Conv2D"
    spatial_rank = 2
    nd = 2
    type: Literal["Conv2D"] = "Conv2D"

    @classmethod
    def cases(cls):
        return [
            Case({"filters": 4, "kernel_size": 3}, [(7, 6, 3)], "valid"),
            Case({"filters": 5, "kernel_size": [3, 2], "padding": "same"}, [(7, 5, 2)], "same_rect"),
            Case({"filters": 3, "kernel_size": 2, "strides": 2, "padding": "same"}, [(7, 6, 2)], "same_even_stride2"),
            Case({"filters": 4, "kernel_size": 4, "strides": [2, 3], "padding": "same"}, [(9, 8, 3)], "same_even4_stride23"),
            Case({"filters": 2, "kernel_size": 3, "dilation": 2, "padding": "same"}, [(8, 7, 2)], "dilated_same"),
            Case({"filters": 6, "kernel_size": 3, "groups": 2, "padding": 1}, [(5, 6, 4)], "groups_explicit_pad"),
            Case({"filters": 6, "kernel_size": 3, "groups": 3, "strides": 2, "padding": "same"}, [(6, 7, 3)], "depthwise_x2"),
            Case({"filters": 3, "kernel_size": 1, "use_bias": False}, [(3, 4, 5)], "pointwise_nobias"),
        ]
