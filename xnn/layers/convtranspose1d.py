"""ConvTranspose1D: ``(L, C)`` -> ``(L', filters)``, weight ``(C, filters/groups, k)`` (PyTorch's
``ConvTranspose1d`` layout); padding valid | same (output ``L*s``, Keras's) | explicit (torch's
``padding``), ``output_padding``, dilation, groups. See ``_conv_transpose``."""
from __future__ import annotations

from typing import Literal

from ..spec.layer import Case
from ..spec.registry import register
from ._conv_transpose import _ConvTransposeBase


@register
class ConvTranspose1D(_ConvTransposeBase):
    kind = "ConvTranspose1D"
    spatial_rank = 1
    nd = 1
    type: Literal["ConvTranspose1D"] = "ConvTranspose1D"

    @classmethod
    def cases(cls):
        return [
            Case({"filters": 3, "kernel_size": 3, "strides": 2}, [(5, 2)], "valid_stride2"),
            Case({"filters": 2, "kernel_size": 4, "strides": 2, "padding": "same"}, [(5, 3)], "same_even_total"),
            Case({"filters": 2, "kernel_size": 2, "strides": 3, "padding": "same"}, [(4, 2)], "same_odd_total"),
            Case({"filters": 2, "kernel_size": 1, "strides": 3, "padding": "same"}, [(3, 2)], "same_stride_gt_kernel"),
            Case({"filters": 3, "kernel_size": 3, "strides": 3, "padding": 2, "output_padding": 2}, [(4, 2)],
                 "explicit_outpad2"),
            Case({"filters": 2, "kernel_size": 2, "dilation": 3, "padding": "same"}, [(6, 2)], "dilated_same"),
            Case({"filters": 6, "kernel_size": 3, "strides": 2, "groups": 3, "use_bias": False}, [(4, 3)], "groups_nobias"),
        ]
