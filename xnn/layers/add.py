"""Add: the elementwise sum of two or more inputs of the same shape.

Shapes: ``k`` inputs of shape ``S`` (k >= 2) -> ``S``. No parameters, no fields.
"""
from __future__ import annotations

from typing import ClassVar, Literal

from ..spec.layer import Case, Layer, ShapeError
from ..spec.registry import register


@register
class Add(Layer):
    kind = "Add"
    arity: ClassVar[tuple[int, int | None]] = (2, None)
    type: Literal["Add"] = "Add"

    def infer(self, in_shapes):
        first = tuple(in_shapes[0])
        for i, s in enumerate(in_shapes[1:], 1):
            if tuple(s) != first:
                raise ShapeError(f"all inputs need the same shape: input 0 is {list(first)}, input {i} is {list(s)}",
                                 "inputs")
        return first

    def forward(self, p, xs, training=False):
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out

    @classmethod
    def cases(cls):
        return [
            Case({}, [(6,), (6,)], "two_vectors"),
            Case({}, [(4, 3), (4, 3), (4, 3)], "three_sequences"),
        ]
