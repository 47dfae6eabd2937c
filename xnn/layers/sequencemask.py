"""SequenceMask: a per-sample padding mask from padded input, for sequence layers to take as an
explicit extra input (no hidden mask propagation: every path just sees a tensor).

Shapes: token ids ``(T,)`` or features ``(T, F)`` -> mask ``(T,)``, float, 1 = valid/attend.
A step is padding when its id equals ``pad_value`` (for features: every feature equals it).
Padding is on the right: the mask is 1 up to and including the last non-pad step and 0 after,
so a pad-valued step inside the sequence stays valid and the mask is always a valid prefix.
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from ..spec.layer import Case, Layer, ShapeError
from ..spec.registry import register


def prefix_mask(nonpad: np.ndarray) -> np.ndarray:
    """``(N, T)`` bool, True at non-pad steps -> ``(N, T)`` bool valid prefix (right padding)."""
    # a step is valid when some step at or after it is not padding: a reversed cumulative sum
    rev = np.flip(np.cumsum(np.flip(nonpad.astype(np.int64), 1), axis=1), 1)
    return rev > 0


@register
class SequenceMask(Layer):
    kind = "SequenceMask"
    type: Literal["SequenceMask"] = "SequenceMask"
    doc_shapes = "(T,) ids | (T, F) features -> (T,) float mask"
    pad_value: float = 0.0
    """The value of a padding step (a token id; for features: every feature equal to it); padding is on the right."""

    def infer(self, in_shapes):
        (s,) = in_shapes
        if len(s) not in (1, 2):
            raise ShapeError("SequenceMask needs (T,) token ids or (T, F) features per sample", "inputs")
        return (s[0],)

    def forward(self, p, xs, training=False):
        x = xs[0]
        nonpad = x != self.pad_value if x.ndim == 2 else np.any(x != self.pad_value, axis=-1)
        dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
        return prefix_mask(nonpad).astype(dtype)

    @classmethod
    def cases(cls):
        return [Case({}, [(6,)], "ids", input_kind="int:3", train_ok=False),
                Case({}, [(5, 3)], "features", input_kind="padded", train_ok=False),
                Case({"pad_value": 1.0}, [(7,)], "ids_pad1", input_kind="int:2", train_ok=False)]
