"""Multiply: the elementwise product of two or more inputs, with NumPy broadcasting of the
per-sample shapes (see ``_pointwise``): ``(H, W, C) * (C,)`` or ``(H, W, C) * (1, 1, C)`` scales
each channel (squeeze-and-excitation), equal shapes multiply elementwise.

Shapes: ``k`` inputs (k >= 2) that broadcast -> the broadcast shape. No parameters, no fields.
torch/Keras/ONNX broadcast a batch ``(N, *s)`` against ``(N, *t)`` with the batch axis included,
so every lowering first gives the shorter input unit axes after its batch axis (and, on
channels-first tensors, after the channel axis).
"""
from __future__ import annotations

from typing import ClassVar, Literal

from ..spec.layer import Case, Layer
from ..spec.registry import register
from . import _pointwise


@register
class Multiply(Layer):
    kind = "Multiply"
    arity: ClassVar[tuple[int, int | None]] = (2, None)
    shape_fields = ()
    type: Literal["Multiply"] = "Multiply"

    def infer(self, in_shapes):
        return _pointwise.broadcast(in_shapes)

    def forward(self, p, xs, training=False):
        rank = max(x.ndim for x in xs) - 1
        out = _pointwise.expand(xs[0], rank)
        for x in xs[1:]:
            out = out * _pointwise.expand(x, rank)
        return out

    case_graph = staticmethod(_pointwise.case_graph)

    @classmethod
    def cases(cls):
        return [
            Case({}, [(5, 4, 6), (6,)], "se_channel_vector"),
            Case({}, [(5, 4, 6), (1, 1, 6)], "se_keepdims"),
            Case({}, [(6,), (5, 4, 6)], "vector_first"),
            Case({}, [(5, 3, 4), (5, 3, 4), (5, 3, 4)], "three_equal_images"),
            Case({}, [(7, 4), (1, 4)], "signal_step_broadcast"),
            Case({}, [(5, 4, 3), (4, 1)], "rank2_into_image"),
            Case({}, [(5, 1, 3), (1, 4, 3)], "both_broadcast"),
            Case({}, [(6,), (6,)], "vectors"),
        ]
