"""BatchNorm over the channel axis (the last axis, channels-last), PyTorch semantics.

Shapes: ``(F,)``, ``(L, C)`` or ``(H, W, C)`` -> same; statistics are per channel (last axis),
taken over the batch and every spatial axis (``n`` values per channel).
Canonical params: ``weight (C,)`` ones and ``bias (C,)`` zeros (group ``norm``); ``running_mean
(C,)`` zeros and ``running_var (C,)`` ones (group ``buffer``, not trained).
Fields: ``eps`` > 0, default 1e-5; ``momentum`` in [0, 1], default 0.1 (PyTorch's meaning).

- Evaluation: ``y = (x - running_mean) / sqrt(running_var + eps) * weight + bias``.
- Training: ``y = (x - mean) / sqrt(var + eps) * weight + bias`` with the batch mean and the
  **biased** batch variance ``var``, then
  ``running_mean = (1 - momentum) * running_mean + momentum * mean`` and
  ``running_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)`` (unbiased).
- Frozen (``trainable: false``): evaluation formula also in training, nothing is updated
  (Keras's ``trainable=False`` rule, applied on every backend).

Keras's ``BatchNormalization`` differs (momentum 0.99 = weight of the old value, eps 1e-3, biased
running variance), so the Keras lowering is a custom layer with this exact formula.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field, PositiveFloat

from ..spec.layer import Case, Layer, Param, ShapeError
from ..spec.registry import register


@register
class BatchNorm(Layer):
    kind = "BatchNorm"
    shape_fields = ()
    type: Literal["BatchNorm"] = "BatchNorm"
    eps: PositiveFloat = 1e-5
    """Added to the variance before the square root (PyTorch's default 1e-5; Keras's is 1e-3)."""
    momentum: float = Field(0.1, ge=0.0, le=1.0)
    """PyTorch's convention: running = (1 - m)·running + m·batch, in [0, 1] (Keras's 0.99 is 1 - m)."""

    def infer(self, in_shapes):
        (s,) = in_shapes
        if not 1 <= len(s) <= 3:
            raise ShapeError(f"BatchNorm takes (F,), (L, C) or (H, W, C) inputs (rank {len(s)} given)")
        return s

    def params(self, in_shapes):
        c = in_shapes[0][-1]
        return {
            "weight": Param((c,), "ones", group="norm"),
            "bias": Param((c,), "zeros", group="norm"),
            "running_mean": Param((c,), "zeros", group="buffer"),
            "running_var": Param((c,), "ones", group="buffer"),
        }

    @staticmethod
    def batch_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """Per-channel batch mean, biased variance and count ``n`` of ``x (N, ..., C)``."""
        axes = tuple(range(x.ndim - 1))
        mean = x.mean(axis=axes)
        var = ((x - mean) ** 2).mean(axis=axes)
        return mean, var, int(np.prod(x.shape[:-1]))

    def updated_running(self, p: dict[str, np.ndarray], x: np.ndarray) -> dict[str, np.ndarray]:
        """``running_mean`` / ``running_var`` after one training-mode forward pass on ``x``."""
        if not self.trainable:
            return {"running_mean": p["running_mean"], "running_var": p["running_var"]}
        mean, var, n = self.batch_stats(x)
        m = self.momentum
        return {"running_mean": (1 - m) * p["running_mean"] + m * mean,
                "running_var": (1 - m) * p["running_var"] + m * var * n / (n - 1)}

    def forward(self, p, xs, training=False):
        x = xs[0]
        if training and self.trainable:
            mean, var, _ = self.batch_stats(x)
        else:
            mean, var = p["running_mean"], p["running_var"]
        return (x - mean) / np.sqrt(var + self.eps) * p["weight"] + p["bias"]

    @classmethod
    def cases(cls):
        return [
            Case({}, [(6,)], "features"),
            Case({"eps": 1e-3, "momentum": 0.2}, [(7, 3)], "signal"),
            Case({}, [(5, 4, 3)], "image"),
            # frozen: same forward in evaluation; its params get no gradients, so no gradient test
            Case({"trainable": False}, [(5, 3)], "frozen", train_ok=False),
        ]
