"""LRN: local response normalization across channels (AlexNet, GoogLeNet v1), ONNX ``LRN`` semantics.

``y[..., c] = x[..., c] / (bias + alpha / size * sum(x[..., j]**2 for j in window(c))) ** beta`` with
``window(c) = c - (size-1)/2 .. c + (size-1)/2``, clipped to the channels (channels outside count
as zeros). Shapes: ``(F,)``, ``(L, C)``, ``(H, W, C)`` -> same; the channel axis is the last.
No parameters.

Fields: ``size`` (required, odd), ``alpha`` (1e-4, >= 0), ``beta`` (0.75), ``bias`` (1.0, > 0;
PyTorch's ``k``, MATLAB's ``K``).

Conventions: ONNX ``LRN``, PyTorch ``LocalResponseNorm`` and MATLAB
``crossChannelNormalizationLayer`` all divide ``alpha`` by ``size`` (MATLAB's defaults differ: K 2).
TensorFlow's ``tf.nn.local_response_normalization(depth_radius=r, bias, alpha=a, beta)`` does
not: it is ``size = 2r + 1``, ``alpha = a · size`` here. ``size`` must be odd: an even window is
asymmetric and PyTorch puts the extra channel before ``c`` where ONNX and MATLAB put it after
(and ONNX Runtime refuses even sizes).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import NonNegativeFloat, PositiveFloat, PositiveInt, field_validator

from ..spec.layer import Case, Layer, ShapeError
from ..spec.registry import register


@register
class LRN(Layer):
    kind = "LRN"
    shape_fields = ()
    type: Literal["LRN"] = "LRN"
    size: PositiveInt
    """Channels in the window (odd), centred on each channel."""
    alpha: NonNegativeFloat = 1e-4
    """Scale, divided by size as ONNX and PyTorch do: bias + alpha/size·Σx²."""
    beta: float = 0.75
    """Exponent of the divisor."""
    bias: PositiveFloat = 1.0
    """Additive constant of the divisor, > 0 (PyTorch's k, MATLAB's K)."""

    @field_validator("size")
    @classmethod
    def _odd(cls, v: int) -> int:
        if v % 2 == 0:
            raise ValueError("must be odd (an even window is asymmetric, and frameworks disagree on which side "
                             "gets the extra channel)")
        return v

    def infer(self, in_shapes):
        (s,) = in_shapes
        if not 1 <= len(s) <= 3:
            raise ShapeError(f"LRN takes (F,), (L, C) or (H, W, C) inputs (rank {len(s)} given)")
        return s

    def window_sums(self, sq: np.ndarray) -> np.ndarray:
        """Sum of ``sq`` over each channel's window (the last axis, zeros outside)."""
        h = (self.size - 1) // 2
        c = sq.shape[-1]
        pad = np.pad(sq, [(0, 0)] * (sq.ndim - 1) + [(h, h)])
        return sum(pad[..., i:i + c] for i in range(self.size))

    def forward(self, p, xs, training=False):
        x = xs[0]
        return x / (self.bias + self.alpha / self.size * self.window_sums(x * x)) ** self.beta

    @classmethod
    def cases(cls):
        return [
            Case({"size": 5, "alpha": 0.5}, [(4, 3, 7)], "image"),
            Case({"size": 3, "alpha": 0.1, "beta": 0.5, "bias": 2.0}, [(6, 4)], "signal"),
            Case({"size": 5, "alpha": 0.8, "beta": 1.0}, [(3,)], "vector_window_wider_than_channels"),
            Case({"size": 1, "alpha": 0.3}, [(2, 3, 4)], "size_1"),
            Case({"size": 7, "alpha": 1.5, "beta": 1.25, "bias": 0.5}, [(5, 5, 6)], "wide_window"),
            Case({"size": 5}, [(3, 2, 8)], "defaults"),
        ]
