"""UpSampling1D and UpSampling2D: integer-factor enlargement of the spatial axes (channels-last).

Shapes: 1D ``(L, C)`` -> ``(L*s, C)``; 2D ``(H, W, C)`` -> ``(H*s_h, W*s_w, C)``. No parameters.
Fields: ``size`` (default 2, Keras's; an int or one per spatial axis) and, 2-D only,
``interpolation``:

- ``nearest`` (default): output cell ``o`` copies input cell ``o // s`` (a repeat). This is torch
  ``nearest``, Keras ``UpSampling*D`` (``ops.repeat``), ONNX ``Resize(mode=nearest,
  coordinate_transformation_mode=asymmetric, nearest_mode=floor)``.
- ``bilinear``: half-pixel centres. Per axis, output cell ``o`` reads the source coordinate
  ``u = max((o + 0.5) / s - 0.5, 0)``, ``i0 = floor(u)``, ``i1 = min(i0 + 1, n - 1)``,
  ``y = (1 - (u - i0)) x[i0] + (u - i0) x[i1]``, done along H then W. This is torch
  ``bilinear, align_corners=False``, Keras/TF2 ``resize(bilinear)`` and ONNX
  ``Resize(mode=linear, coordinate_transformation_mode=half_pixel)``.
"""
from __future__ import annotations

from typing import ClassVar, Union

import numpy as np
from pydantic import PositiveInt

from ..spec.layer import Layer, ShapeError
from . import _conv

IntOrList = Union[PositiveInt, list[PositiveInt]]


def linear_matrix(n: int, s: int) -> np.ndarray:
    """The ``(n*s, n)`` float64 half-pixel linear interpolation matrix of one axis (two entries per row)."""
    m = n * s
    scale = n / m
    A = np.zeros((m, n))
    for o in range(m):
        u = max(scale * (o + 0.5) - 0.5, 0.0)
        i0 = int(np.floor(u))
        lam = min(max(u - i0, 0.0), 1.0)
        i1 = i0 + 1 if i0 < n - 1 else i0
        A[o, i0] += 1.0 - lam
        A[o, i1] += lam
    return A


class UpSamplingBase(Layer):
    nd: ClassVar[int] = 2
    shape_fields = ("size",)
    size: IntOrList = 2
    """Integer enlargement factor, an int or one per spatial axis (Keras's default 2)."""

    @property
    def method(self) -> str:
        return getattr(self, "interpolation", "nearest")

    def factors(self) -> tuple[int, ...]:
        return _conv.as_tuple(self.size, self.nd, "size")

    def infer(self, in_shapes):
        (s,) = in_shapes
        if len(s) != self.nd + 1:
            raise ShapeError(f"{self.kind} needs a rank-{self.nd + 1} per-sample input (spatial..., channels)")
        f = self.factors()
        return (*(s[i] * f[i] for i in range(self.nd)), s[-1])

    def forward(self, p, xs, training=False):
        y = xs[0]
        for i, s in enumerate(self.factors()):
            if self.method == "nearest":
                y = np.repeat(y, s, axis=1 + i)
            else:
                A = linear_matrix(y.shape[1 + i], s)
                y = np.moveaxis(np.tensordot(A, y, axes=([1], [1 + i])), 0, 1 + i)
        return y
