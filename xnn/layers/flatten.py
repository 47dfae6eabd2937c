"""Flatten: every per-sample axis into one, in channels-last order ``(H, W, C)``.

Shapes: ``(d1, ..., dk)`` -> ``(d1 * ... * dk,)``. No parameters, no fields.
The flattened index of ``(h, w, c)`` is ``h*W*C + w*C + c`` on every backend, so the weights of a
Dense after Flatten are identical everywhere (torch permutes channels-first tensors to
channels-last before flattening; PyTorch's own ``nn.Flatten`` order would be ``(C, H, W)``).
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from ..spec.layer import Case, Layer, ShapeError
from ..spec.registry import register


@register
class Flatten(Layer):
    kind = "Flatten"
    type: Literal["Flatten"] = "Flatten"

    def infer(self, in_shapes):
        (s,) = in_shapes
        if len(s) < 1:
            raise ShapeError("Flatten needs at least one per-sample axis")
        return (int(np.prod(s)),)

    def forward(self, p, xs, training=False):
        x = xs[0]
        return x.reshape(x.shape[0], -1)

    @classmethod
    def cases(cls):
        return [
            Case({}, [(3, 5, 2)], "image_hwc"),
            Case({}, [(7, 3)], "signal_lc"),
            Case({}, [(6,)], "vector"),
        ]
