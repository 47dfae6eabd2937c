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
class Conv1D(_ConvBase):
    kind = "Conv1D"
    spatial_rank = 1
    nd = 1
    type: Literal["Conv1D"] = "Conv1D"

    @classmethod
    def cases(cls):
        return [
            Case({"filters": 4, "kernel_size": 3}, [(9, 3)], "valid"),
            Case({"filters": 3, "kernel_size": 4, "strides": 2, "padding": "same"}, [(11, 2)], "same_even_stride2"),
            Case({"filters": 4, "kernel_size": 3, "dilation": 2, "groups": 2, "padding": "same"}, [(10, 4)], "dilated_groups"),
        ]
