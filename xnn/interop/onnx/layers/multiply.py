"""Multiply -> ``Mul`` (chained for more than two inputs), lower-rank inputs ``Unsqueeze``d after the
batch (channels-last) or channel (channels-first) axis first; see ``_pointwise``."""
from __future__ import annotations

from ..mapping import OnnxMapping
from ._pointwise import fold


class MultiplyX(OnnxMapping):
    kind = "Multiply"
    layout = "any"

    def emit(self, node, g, xs, params, layout):
        return fold("Mul", node, g, xs, layout)
