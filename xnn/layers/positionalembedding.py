"""PositionalEmbedding: adds a position vector to each step, ``y[t] = x[t] + P[t]``.

Shapes: ``(T, F)`` -> ``(T, F)``, with ``T <= max_length`` (checked by ``xnn validate``).
``mode: learned``: canonical param ``weight (max_length, F)``, init N(0, 0.02²) (no framework
default exists; GPT-2's), group ``embedding``. ``mode: sinusoidal``: no parameters,
``P[t, 2i] = sin(t / 10000^(2i/F))``, ``P[t, 2i+1] = cos(t / 10000^(2i/F))`` (Vaswani et al.).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import PositiveInt

from ..spec.layer import Case, Layer, Param, ShapeError
from ..spec.registry import register


def sinusoid_table(length: int, dim: int) -> np.ndarray:
    """``(length, dim)`` float64 sinusoidal position table."""
    pos = np.arange(length, dtype=np.float64)[:, None]
    rate = np.exp(np.arange(0, dim, 2, dtype=np.float64) * (-np.log(10000.0) / dim))
    out = np.zeros((length, dim))
    out[:, 0::2] = np.sin(pos * rate)
    out[:, 1::2] = np.cos(pos * rate[: dim // 2])
    return out


@register
class PositionalEmbedding(Layer):
    kind = "PositionalEmbedding"
    type: Literal["PositionalEmbedding"] = "PositionalEmbedding"
    doc_shapes = "(T, F) -> (T, F)"
    mode: Literal["learned", "sinusoidal"] = "learned"
    """learned (a weight (max_length, F), init N(0, 0.02²)) or sinusoidal (Vaswani et al., no parameters)."""
    max_length: PositiveInt = 512
    """Longest sequence T accepted (rows of the learned table)."""

    def infer(self, in_shapes):
        (s,) = in_shapes
        if len(s) != 2:
            raise ShapeError("PositionalEmbedding needs a (time, features) sequence per sample", "inputs")
        if s[0] > self.max_length:
            raise ShapeError(f"the sequence has {s[0]} steps, more than max_length {self.max_length}", "max_length")
        return s

    def params(self, in_shapes):
        if self.mode == "sinusoidal":
            return {}
        return {"weight": Param((self.max_length, in_shapes[0][-1]), "normal", {"std": 0.02}, "embedding")}

    def forward(self, p, xs, training=False):
        x = xs[0]
        t, f = x.shape[1:]
        table = p["weight"] if self.mode == "learned" else sinusoid_table(self.max_length, f)
        return x + table[:t].astype(x.dtype)

    @classmethod
    def cases(cls):
        return [Case({"max_length": 9}, [(6, 4)], "learned"),
                Case({"mode": "sinusoidal", "max_length": 50}, [(7, 5)], "sinusoidal_odd_width")]
