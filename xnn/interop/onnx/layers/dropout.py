"""Dropout -> ``Dropout(ratio)`` without ``training_mode``: the identity in inference."""
from __future__ import annotations

from ..mapping import OnnxMapping


class DropoutX(OnnxMapping):
    kind = "Dropout"
    layout = "any"

    def emit(self, node, g, xs, params, layout):
        return g.op("Dropout", [xs[0], g.scalar(f"{node.name}.ratio", float(node.layer.rate))], node.name)
