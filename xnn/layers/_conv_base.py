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

from ..spec.layer import Layer, Param, ShapeError
from . import _conv

IntOrList = Union[PositiveInt, list[PositiveInt]]


Padding = Union[Literal["valid", "same"], int, list[int]]


class _ConvBase(Layer):
    nd: ClassVar[int] = 2
    shape_fields = ("filters", "kernel_size", "strides", "padding", "dilation")
    activation_sugar = True
    filters: PositiveInt
    """Output channels."""
    kernel_size: IntOrList
    """Kernel size, an int or one per spatial axis."""
    strides: IntOrList = 1
    """Step between windows, an int or one per spatial axis."""
    padding: Padding = "valid"
    """valid, same (TensorFlow's: output ceil(L/s), extra cell at the end) or cells at each end (int or per axis)."""
    dilation: IntOrList = 1
    """Spacing between kernel taps, an int or one per spatial axis; 1: a dense kernel."""
    groups: PositiveInt = 1
    """Channel groups (must divide C and filters), each input group feeds its output group; groups = C: depthwise."""
    use_bias: bool = True
    """Add a learned bias per output channel."""

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

    def fallback_shape(self, in_shapes):
        if len(in_shapes) != 1:
            return None
        shape = in_shapes[0]
        k, s, d, pads = self.geometry(shape)  # ShapeError where the spatial rule itself fails
        out = [_conv.out_len(shape[i], k[i], s[i], d[i], *pads[i]) for i in range(self.nd)]
        return (*out, self.filters) if all(o >= 1 for o in out) else None

    def macs(self, in_shapes, out_shape):
        k, *_ = self.geometry(in_shapes[0])
        return int(np.prod(out_shape)) * (in_shapes[0][-1] // self.groups) * int(np.prod(k))

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
