"""Subtract: ``inputs[0] - inputs[1]``, with NumPy broadcasting of the per-sample shapes as
Multiply (see ``_pointwise``).

Shapes: two inputs that broadcast -> the broadcast shape. No parameters, no fields.
"""
from __future__ import annotations

from typing import ClassVar, Literal

from ..spec.layer import Case, Layer
from ..spec.registry import register
from . import _pointwise


@register
class Subtract(Layer):
    kind = "Subtract"
    arity: ClassVar[tuple[int, int | None]] = (2, 2)
    shape_fields = ()
    type: Literal["Subtract"] = "Subtract"

    def infer(self, in_shapes):
        return _pointwise.broadcast(in_shapes)

    def forward(self, p, xs, training=False):
        rank = max(x.ndim for x in xs) - 1
        return _pointwise.expand(xs[0], rank) - _pointwise.expand(xs[1], rank)

    case_graph = staticmethod(_pointwise.case_graph)

    @classmethod
    def cases(cls):
        return [
            Case({}, [(5, 4, 3), (3,)], "image_minus_channel_vector"),
            Case({}, [(1, 4), (7, 4)], "first_broadcasts"),
            Case({}, [(7, 4), (7, 4)], "equal_signals"),
            Case({}, [(6,), (6,)], "vectors"),
        ]
