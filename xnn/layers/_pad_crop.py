"""ZeroPadding1D/2D and Cropping1D/2D: add zeros at, or remove cells from, the ends of the
spatial axes (channels-last). No parameters.

Amounts (the ``padding`` / ``cropping`` field), as Keras writes them:

- 1-D: an int ``n`` (``n`` at both ends) or ``[left, right]``;
- 2-D: an int ``n`` (every side), ``[p_h, p_w]`` (symmetric per axis) or
  ``[[top, bottom], [left, right]]``.

Every amount is ``>= 0``. Shapes: ``(L, C)`` -> ``(L + left + right, C)`` (padding) or
``(L - left - right, C)`` (cropping, which must leave at least one cell); 2-D alike per axis.
"""
from __future__ import annotations

from typing import ClassVar, Union

import numpy as np
from pydantic import NonNegativeInt

from ..spec.layer import Layer, ShapeError

Amount1D = Union[NonNegativeInt, list[NonNegativeInt]]
Amount2D = Union[NonNegativeInt, list[NonNegativeInt], list[list[NonNegativeInt]]]
Pairs = list[tuple[int, int]]


def amounts(v, nd: int, field: str) -> Pairs:
    """The ``(lo, hi)`` amount of each spatial axis from a field value (see the module docstring)."""
    if isinstance(v, int):
        return [(v, v)] * nd
    v = list(v)
    if nd == 1:
        if len(v) != 2 or not all(isinstance(e, int) for e in v):
            raise ShapeError(f"needs an int or [left, right] (received {v})", field)
        return [(v[0], v[1])]
    if all(isinstance(e, int) for e in v):
        if len(v) != 2:
            raise ShapeError(f"needs an int, [rows, cols] or [[top, bottom], [left, right]] (received {v})", field)
        return [(v[0], v[0]), (v[1], v[1])]
    if len(v) != 2 or not all(isinstance(e, list) and len(e) == 2 for e in v):
        raise ShapeError(f"needs an int, [rows, cols] or [[top, bottom], [left, right]] (received {v})", field)
    return [(int(e[0]), int(e[1])) for e in v]


class _SpatialEdges(Layer):
    """Shared shape check: a rank ``nd + 1`` per-sample input (spatial..., channels)."""

    nd: ClassVar[int] = 2
    field: ClassVar[str] = "padding"

    def pairs(self) -> Pairs:
        return amounts(getattr(self, self.field), self.nd, self.field)

    def _rank(self, in_shapes):
        (s,) = in_shapes
        if len(s) != self.nd + 1:
            raise ShapeError(f"{self.kind} needs a rank-{self.nd + 1} per-sample input (spatial..., channels)")
        return s


class ZeroPaddingBase(_SpatialEdges):
    field = "padding"
    shape_fields = ("padding",)

    def infer(self, in_shapes):
        s = self._rank(in_shapes)
        p = self.pairs()
        return (*(s[i] + lo + hi for i, (lo, hi) in enumerate(p)), s[-1])

    def forward(self, p, xs, training=False):
        return np.pad(xs[0], [(0, 0), *self.pairs(), (0, 0)])


class CroppingBase(_SpatialEdges):
    field = "cropping"
    shape_fields = ("cropping",)

    def infer(self, in_shapes):
        s = self._rank(in_shapes)
        p = self.pairs()
        out = [s[i] - lo - hi for i, (lo, hi) in enumerate(p)]
        if any(o < 1 for o in out):
            raise ShapeError(f"cropping {[list(x) for x in p]} leaves no cells of the spatial axes "
                             f"{list(s[:-1])} (output would be {out})", "cropping")
        return (*out, s[-1])

    def forward(self, p, xs, training=False):
        x = xs[0]
        idx = (slice(None),) + tuple(slice(lo, x.shape[1 + i] - hi) for i, (lo, hi) in enumerate(self.pairs()))
        return x[idx]
