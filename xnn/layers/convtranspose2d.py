"""ConvTranspose2D: ``(H, W, C)`` -> ``(H', W', filters)``, weight ``(C, filters/groups, kh, kw)``
(PyTorch's ``ConvTranspose2d`` layout); padding valid | same (output ``H*s``, Keras's) | explicit
(torch's ``padding``), ``output_padding``, dilation, groups. See ``_conv_transpose``."""
from __future__ import annotations

from typing import Literal

from ..spec.layer import Case
from ..spec.registry import register
from ._conv_transpose import _ConvTransposeBase


@register
class ConvTranspose2D(_ConvTransposeBase):
    kind = "ConvTranspose2D"
    spatial_rank = 2
    nd = 2
    type: Literal["ConvTranspose2D"] = "ConvTranspose2D"

    @classmethod
    def cases(cls):
        return [
            Case({"filters": 4, "kernel_size": 3}, [(5, 4, 3)], "valid"),
            Case({"filters": 3, "kernel_size": 3, "strides": 2}, [(4, 5, 2)], "valid_stride2"),
            Case({"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}, [(4, 3, 2)], "same_odd_total"),
            Case({"filters": 3, "kernel_size": 4, "strides": 2, "padding": "same"}, [(3, 4, 3)], "same_even_total"),
            Case({"filters": 2, "kernel_size": 2, "strides": 3, "padding": "same"}, [(3, 2, 2)], "same_stride_gt_kernel"),
            Case({"filters": 3, "kernel_size": [5, 3], "strides": [2, 3], "padding": "same"}, [(3, 4, 2)], "same_rect"),
            Case({"filters": 2, "kernel_size": 2, "strides": 3}, [(3, 3, 2)], "valid_stride_gt_kernel"),
            Case({"filters": 3, "kernel_size": 3, "strides": 2, "padding": 1, "output_padding": 1}, [(4, 5, 2)],
                 "explicit_pad1_outpad1"),
            Case({"filters": 2, "kernel_size": [3, 4], "strides": [1, 2], "padding": [2, 0], "output_padding": [0, 1]},
                 [(5, 3, 3)], "explicit_rect_outpad"),
            Case({"filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 1}, [(3, 4, 2)], "valid_outpad"),
            Case({"filters": 3, "kernel_size": 3, "dilation": 2, "padding": "same"}, [(4, 5, 2)], "dilated_same"),
            Case({"filters": 2, "kernel_size": 2, "strides": 2, "dilation": 2, "padding": 1, "output_padding": 1},
                 [(3, 4, 2)], "dilated_stride_explicit"),
            Case({"filters": 4, "kernel_size": 3, "strides": 2, "groups": 2, "padding": "same"}, [(3, 4, 4)], "groups"),
            Case({"filters": 3, "kernel_size": 2, "strides": 2, "groups": 3, "use_bias": False}, [(3, 3, 3)],
                 "depthwise_nobias"),
        ]
