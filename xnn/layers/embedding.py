"""Embedding: a lookup of rows of ``weight`` by integer index.

Shapes: integer input ``(T,)`` (any rank; input dtype int64) -> ``(T, dim)``.
Canonical params: ``weight (num_embeddings, dim)``, init N(0, 1) (PyTorch's; Keras's default
U(-0.05, 0.05) is not used), group ``embedding``. Indices must lie in ``[0, num_embeddings)``.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import PositiveInt

from ..spec.layer import Case, Layer, Param
from ..spec.registry import register


@register
class Embedding(Layer):
    kind = "Embedding"
    type: Literal["Embedding"] = "Embedding"
    num_embeddings: PositiveInt
    """Vocabulary size: indices must lie in [0, num_embeddings)."""
    dim: PositiveInt
    """Size of each embedding vector (the new last axis)."""

    def infer(self, in_shapes):
        return (*in_shapes[0], self.dim)

    def params(self, in_shapes):
        return {"weight": Param((self.num_embeddings, self.dim), "normal", {"std": 1.0}, "embedding")}

    def forward(self, p, xs, training=False):
        idx = np.asarray(xs[0])
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            raise IndexError(f"Embedding indices must lie in [0, {self.num_embeddings}) "
                             f"(received {idx.min()}..{idx.max()})")
        return p["weight"][idx]

    @classmethod
    def cases(cls):
        return [
            Case({"num_embeddings": 11, "dim": 4}, [(7,)], "tokens", input_kind="int:11"),
            Case({"num_embeddings": 3, "dim": 5}, [(2, 6)], "rank2_indices", input_kind="int:3"),
        ]
