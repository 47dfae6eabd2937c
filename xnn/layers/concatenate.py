"""Concatenate: join two or more inputs along one axis.

Shapes: inputs equal on every axis but ``axis`` -> the sum of their sizes on ``axis``.
Field: ``axis`` (default -1), counted like Keras on the batched channels-last tensor
``(N, *shape)``: -1 / the last axis is channels; 0 (the batch axis) is not allowed. The torch
lowering maps the axis when it runs on channels-first tensors. No parameters.
"""
from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np

from ..spec.layer import Case, Layer, Shape, ShapeError
from ..spec.registry import register


@register
class Concatenate(Layer):
    kind = "Concatenate"
    arity: ClassVar[tuple[int, int | None]] = (2, None)
    type: Literal["Concatenate"] = "Concatenate"
    axis: int = -1
    """Axis joined, counted like Keras on the batched tensor (N, *shape): -1 = channels; 0 (batch) not allowed."""

    def sample_axis(self, rank: int) -> int:
        """The per-sample axis (0-based, in a rank-``rank`` per-sample shape) ``axis`` names."""
        ax = self.axis if self.axis < 0 else self.axis - (rank + 1)
        if not -rank <= ax <= -1:
            raise ShapeError(f"axis {self.axis} out of range for a rank-{rank + 1} batch (axis 0 is the batch)",
                             "axis")
        return ax + rank

    def infer(self, in_shapes):
        first: Shape = tuple(in_shapes[0])
        ax = self.sample_axis(len(first))
        for i, s in enumerate(in_shapes[1:], 1):
            if len(s) != len(first) or any(a != b for j, (a, b) in enumerate(zip(s, first)) if j != ax):
                raise ShapeError(f"inputs must agree on every axis but {self.axis}: input 0 is {list(first)}, "
                                 f"input {i} is {list(s)}", "inputs")
        return tuple(sum(s[ax] for s in in_shapes) if j == ax else d for j, d in enumerate(first))

    def forward(self, p, xs, training=False):
        return np.concatenate(xs, axis=1 + self.sample_axis(xs[0].ndim - 1))

    @classmethod
    def cases(cls):
        return [
            Case({}, [(3,), (5,)], "vectors"),
            Case({"axis": -1}, [(4, 2), (4, 3), (4, 1)], "three_channels"),
            Case({"axis": 1}, [(4, 3), (4, 3)], "time_axis"),
        ]
