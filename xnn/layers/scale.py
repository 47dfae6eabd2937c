"""Scale: an elementwise affine map with learned parameters, ``y = x * weight + bias`` (Caffe's
``Scale`` layer; a BatchNorm's affine part on its own).

The parameters have the shape ``shape``, broadcast against the per-sample shape with NumPy's
rules (aligned at the last axis): ``None`` (the default) is one value per channel, ``(C,)``;
``[1]`` one scalar; ``[H, W, 1]`` one value per position of an image. Every entry is 1 or the
input's size on that axis, so the output has the input's shape.

Shapes: any ``(..., C)`` -> same. Canonical params: ``weight (*shape)`` ones and (``use_bias``)
``bias (*shape)`` zeros, group ``norm`` (no weight decay, as BatchNorm's affine parameters).

The ONNX import writes this layer for a product/sum/difference/quotient of a tensor and a
constant that no layer before it absorbs: input scaling (``x * 0.017``, ``(x - mean) / std``), a
BatchNorm decomposed into ``Mul``/``Add`` after something other than a BatchNorm, and the
divisor correction of a pool whose padded cells must not be counted (per position).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import PositiveInt

from ..spec.layer import Case, Layer, Param, ShapeError
from ..spec.registry import register


@register
class Scale(Layer):
    kind = "Scale"
    shape_fields = ()
    elementwise = False  # a per-feature weight follows the feature order (not a pure elementwise op)
    type: Literal["Scale"] = "Scale"
    shape: list[PositiveInt] | None = None
    """Parameter shape, broadcast against the input (aligned at the last axis); default: one per channel, (C,)."""
    use_bias: bool = True
    """Add a learned bias of that shape: y = x·weight + bias."""

    def param_shape(self, in_shape) -> tuple[int, ...]:
        return (int(in_shape[-1]),) if self.shape is None else tuple(int(v) for v in self.shape)

    def infer(self, in_shapes):
        (s,) = in_shapes
        if len(s) < 1:
            raise ShapeError("Scale needs an input with at least one axis")
        p = self.param_shape(s)
        if len(p) > len(s) or any(d not in (1, t) for d, t in zip(p[::-1], s[::-1])):
            raise ShapeError(f"Scale shape {list(p)} does not broadcast against the input {list(s)} "
                             "(each entry must be 1 or the input's size, aligned at the last axis)", "shape")
        return s

    def params(self, in_shapes):
        p = self.param_shape(in_shapes[0])
        out = {"weight": Param(p, "ones", group="norm")}
        if self.use_bias:
            out["bias"] = Param(p, "zeros", group="norm")
        return out

    def forward(self, p, xs, training=False):
        y = xs[0] * np.asarray(p["weight"], dtype=xs[0].dtype)
        if self.use_bias:
            y = y + np.asarray(p["bias"], dtype=xs[0].dtype)
        return y

    @classmethod
    def cases(cls):
        return [
            Case({}, [(5, 4, 3)], "per_channel_image"),
            Case({"shape": [5, 4, 1], "use_bias": False}, [(5, 4, 3)], "per_position_image"),
            Case({"shape": [1]}, [(6,)], "scalar_vector"),
            Case({"shape": [7, 1]}, [(7, 2)], "per_step_signal"),
            Case({"shape": [4, 1, 3]}, [(4, 5, 3)], "rows_and_channels"),
            Case({}, [(6, 3)], "per_channel_signal"),
        ]
