"""Conv1D and Conv2D (stride, padding valid/same/explicit, dilation, groups, depthwise).

Shapes (channels-last): Conv1D ``(L, C)`` -> ``(L', filters)``; Conv2D ``(H, W, C)`` ->
``(H', W', filters)``. Canonical params: ``weight (filters, C/groups, *kernel)`` and
``bias (filters,)``, init U(±1/sqrt(C/groups * prod(kernel))) (PyTorch's).
'same' pads as TensorFlow does (extra cell at the end), also with even kernels and stride > 1.
Depthwise: ``groups = C`` and ``filters = C * multiplier``.
"""
from __future__ import annotations

from typing import ClassVar, Literal, Union

import numpy as np
from pydantic import PositiveInt

from ..spec.layer import Case, Layer, Param, ShapeError
from ..spec.registry import register
from . import _conv

IntOrList = Union[PositiveInt, list[PositiveInt]]
Padding = Union[Literal["valid", "same"], int, list[int]]


class _ConvBase(Layer):
    nd: ClassVar[int] = 2
    filters: PositiveInt
    kernel_size: IntOrList
    strides: IntOrList = 1
    padding: Padding = "valid"
    dilation: IntOrList = 1
    groups: PositiveInt = 1
    use_bias: bool = True

    def geometry(self, in_shape):
        nd = self.nd
        if len(in_shape) != nd + 1:
            raise ShapeError(f"{self.kind} needs a rank-{nd + 1} per-sample input (spatial..., channels)")
        k = _conv.as_tuple(self.kernel_size, nd, "kernel_size")
        s = _conv.as_tuple(self.strides, nd, "strides")
        d = _conv.as_tuple(self.dilation, nd, "dilation")
        if isinstance(self.padding, (int, list)) and any(p < 0 for p in _conv.as_tuple(self.padding, nd, "padding")):
            raise ShapeError("must be >= 0", "padding")
        pads = _conv.resolve_pads(self.padding, in_shape[:nd], k, s, d)
        return k, s, d, pads

    def infer(self, in_shapes):
        (shape,) = in_shapes
        k, s, d, pads = self.geometry(shape)
        c = shape[-1]
        if c % self.groups:
            raise ShapeError(f"input channels {c} not divisible by groups {self.groups}", "groups")
        if self.filters % self.groups:
            raise ShapeError(f"filters {self.filters} not divisible by groups {self.groups}", "filters")
        out = [_conv.out_len(shape[i], k[i], s[i], d[i], *pads[i]) for i in range(self.nd)]
        if any(o < 1 for o in out):
            raise ShapeError(f"kernel larger than the padded input: output would be {out}", "kernel_size")
        return (*out, self.filters)

    def params(self, in_shapes):
        shape = in_shapes[0]
        k, *_ = self.geometry(shape)
        cin = shape[-1] // self.groups
        b = 1.0 / np.sqrt(cin * int(np.prod(k)))
        p = {"weight": Param((self.filters, cin, *k), "uniform", {"bound": b}, "weight")}
        if self.use_bias:
            p["bias"] = Param((self.filters,), "uniform", {"bound": b}, "bias")
        return p

    def forward(self, p, xs, training=False):
        k, s, d, pads = self.geometry(xs[0].shape[1:])
        return _conv.conv(xs[0], p["weight"], p.get("bias"), s, d, pads, self.groups)


@register
class Conv2D(_ConvBase):
    kind = "Conv2D"
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


@register
class Conv1D(_ConvBase):
    kind = "Conv1D"
    nd = 1
    type: Literal["Conv1D"] = "Conv1D"

    @classmethod
    def cases(cls):
        return [
            Case({"filters": 4, "kernel_size": 3}, [(9, 3)], "valid"),
            Case({"filters": 3, "kernel_size": 4, "strides": 2, "padding": "same"}, [(11, 2)], "same_even_stride2"),
            Case({"filters": 4, "kernel_size": 3, "dilation": 2, "groups": 2, "padding": "same"}, [(10, 4)], "dilated_groups"),
        ]
