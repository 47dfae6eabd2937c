"""Dense: ``y = x @ weight.T + bias`` on the last axis.

Shapes: input ``(..., in)`` -> output ``(..., units)``.
Canonical params: ``weight (units, in)``, ``bias (units,)``; init U(±1/sqrt(in)) (PyTorch's).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import PositiveInt

from ..spec.layer import Case, Layer, Param, ShapeError
from ..spec.registry import register


@register
class Dense(Layer):
    kind = "Dense"
    shape_fields = ("units",)
    activation_sugar = True
    type: Literal["Dense"] = "Dense"
    units: PositiveInt
    """Output features (the size of the output's last axis)."""
    use_bias: bool = True
    """Add a learned bias (units,)."""

    def infer(self, in_shapes):
        (s,) = in_shapes
        if len(s) < 1:
            raise ShapeError("Dense needs an input with a feature axis")
        return (*s[:-1], self.units)

    def fallback_shape(self, in_shapes):
        s = in_shapes[0] if len(in_shapes) == 1 else ()
        return (*s[:-1], self.units) if len(s) >= 1 else None

    def macs(self, in_shapes, out_shape):
        return int(np.prod(out_shape)) * in_shapes[0][-1]

    def params(self, in_shapes):
        fan_in = in_shapes[0][-1]
        b = 1.0 / np.sqrt(fan_in)
        p = {"weight": Param((self.units, fan_in), "uniform", {"bound": b}, "weight")}
        if self.use_bias:
            p["bias"] = Param((self.units,), "uniform", {"bound": b}, "bias")
        return p

    def forward(self, p, xs, training=False):
        y = xs[0] @ p["weight"].T
        return y + p["bias"] if self.use_bias else y

    @classmethod
    def cases(cls):
        return [
            Case({"units": 5}, [(7,)], "vector"),
            Case({"units": 3, "use_bias": False}, [(4,)], "nobias"),
            Case({"units": 6}, [(5, 4)], "last_axis_of_sequence"),
        ]
