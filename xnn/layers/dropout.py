"""Dropout: zero each element with probability ``rate`` in training, scale survivors by
``1 / (1 - rate)`` (inverted dropout); the identity in evaluation.

Shapes: any input -> same shape. No parameters. Field: ``rate`` in [0, 1), default 0.5 (PyTorch).
Random streams differ between backends (and from NumPy), so only the distribution is shared.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from ..spec.layer import Case, Layer
from ..spec.registry import register


@register
class Dropout(Layer):
    kind = "Dropout"
    elementwise = True
    shape_fields = ()
    type: Literal["Dropout"] = "Dropout"
    rate: float = Field(0.5, ge=0.0, lt=1.0)
    """Probability of zeroing each element in training; survivors scaled by 1 / (1 - rate)."""

    def infer(self, in_shapes):
        return in_shapes[0]

    def forward(self, p, xs, training=False, rng: np.random.Generator | None = None):
        x = xs[0]
        if not training or self.rate == 0.0:
            return x
        rng = rng if rng is not None else np.random.default_rng()
        keep = rng.random(x.shape) >= self.rate
        return np.where(keep, x / (1.0 - self.rate), 0.0)

    @classmethod
    def cases(cls):
        return [Case({"rate": 0.3}, [(4, 5)], "seq"), Case({}, [(7,)], "default_rate")]
