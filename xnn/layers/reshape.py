"""Reshape: a new per-sample shape, row-major over the channels-last layout.

Shapes: ``(d1, ..., dk)`` -> ``target_shape`` (one entry may be -1: inferred so the element count
is kept). No parameters. Field: ``target_shape`` (list of positive ints and at most one -1).
The batch axis is never part of ``target_shape``. ``(H, W, C)`` data is reshaped in that order on
every backend (torch works on channels-last tensors here).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import field_validator

from ..spec.layer import Case, Layer, ShapeError
from ..spec.registry import register


@register
class Reshape(Layer):
    kind = "Reshape"
    type: Literal["Reshape"] = "Reshape"
    target_shape: list[int]
    """New per-sample shape (no batch axis), row-major channels-last; one entry may be -1 (inferred)."""

    @field_validator("target_shape")
    @classmethod
    def _check(cls, v: list[int]) -> list[int]:
        if not v:
            raise ValueError("must have at least one axis")
        if any(d == 0 or d < -1 for d in v):
            raise ValueError("entries must be positive or -1")
        if v.count(-1) > 1:
            raise ValueError("at most one entry may be -1")
        return v

    def infer(self, in_shapes):
        (s,) = in_shapes
        n = int(np.prod(s))
        known = int(np.prod([d for d in self.target_shape if d != -1]))
        if -1 in self.target_shape:
            if n % known:
                raise ShapeError(f"{n} elements cannot fill {self.target_shape}", "target_shape")
            return tuple(n // known if d == -1 else d for d in self.target_shape)
        if known != n:
            raise ShapeError(f"{self.target_shape} holds {known} elements, the input has {n}", "target_shape")
        return tuple(self.target_shape)

    def forward(self, p, xs, training=False):
        x = xs[0]
        return x.reshape(x.shape[0], *self.infer([x.shape[1:]]))

    @classmethod
    def cases(cls):
        return [
            Case({"target_shape": [5, 6]}, [(3, 10)], "2d_to_2d"),
            Case({"target_shape": [-1, 3]}, [(5, 2, 3)], "image_to_seq_infer"),
            Case({"target_shape": [3, 7, -1]}, [(42,)], "vector_to_image"),
        ]
