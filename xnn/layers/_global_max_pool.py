"""GlobalMaxPool1D and GlobalMaxPool2D: the maximum over all spatial axes (channels-last).

Shapes: 1D ``(L, C)`` -> ``(C,)``; 2D ``(H, W, C)`` -> ``(C,)``. No parameters, no fields.
Keras ``GlobalMaxPooling*D(keepdims=False)``; torch ``amax`` over the spatial dims (not
``AdaptiveMaxPool``, which keeps singleton axes); ONNX ``GlobalMaxPool`` + ``Flatten``.
"""
from __future__ import annotations

from typing import ClassVar

from ..spec.layer import Layer, ShapeError


class GlobalMaxPoolBase(Layer):
    nd: ClassVar[int] = 2

    def infer(self, in_shapes):
        (s,) = in_shapes
        if len(s) != self.nd + 1:
            raise ShapeError(f"{self.kind} needs a rank-{self.nd + 1} per-sample input (spatial..., channels)")
        return (s[-1],)

    def forward(self, p, xs, training=False):
        return xs[0].max(axis=tuple(range(1, 1 + self.nd)))
