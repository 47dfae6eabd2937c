"""LayerNorm: normalize over the last axis, then scale and shift.

``y = (x - mean) / sqrt(var + eps) * weight + bias`` with the biased variance over the last axis.
Shapes: ``(..., F)`` -> same. Canonical params: ``weight (F,)`` ones, ``bias (F,)`` zeros (group
``norm``). Field: ``eps`` > 0, default 1e-5 (PyTorch; Keras's default 1e-3 is not used).
"""
from __future__ import annotations

from typing import Literal

from pydantic import PositiveFloat

from ..spec.layer import Case, Layer, Param, ShapeError
from ..spec.registry import register


@register
class LayerNorm(Layer):
    kind = "LayerNorm"
    shape_fields = ()
    type: Literal["LayerNorm"] = "LayerNorm"
    eps: PositiveFloat = 1e-5
    """Added to the variance before the square root (PyTorch's default 1e-5; Keras's is 1e-3)."""

    def infer(self, in_shapes):
        (s,) = in_shapes
        if len(s) < 1:
            raise ShapeError("LayerNorm needs an input with a feature axis")
        return s

    def params(self, in_shapes):
        f = in_shapes[0][-1]
        return {"weight": Param((f,), "ones", group="norm"), "bias": Param((f,), "zeros", group="norm")}

    def forward(self, p, xs, training=False):
        x = xs[0]
        mu = x.mean(axis=-1, keepdims=True)
        var = ((x - mu) ** 2).mean(axis=-1, keepdims=True)
        return (x - mu) / (var + self.eps) ** 0.5 * p["weight"] + p["bias"]

    @classmethod
    def cases(cls):
        return [
            Case({}, [(7,)], "vector"),
            Case({"eps": 1e-3}, [(5, 6)], "seq_eps1e-3"),
            Case({}, [(3, 4, 5)], "image_channels"),
        ]
