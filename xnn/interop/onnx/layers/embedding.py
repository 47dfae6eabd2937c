"""Embedding -> ``Gather(weight, indices, axis=0)``; indices are the integer graph input."""
from __future__ import annotations

from ..mapping import OnnxMapping


class EmbeddingX(OnnxMapping):
    kind = "Embedding"
    layout = "cl"

    def emit(self, node, g, xs, params, layout):
        return g.op("Gather", [g.init(f"{node.name}.weight", params["weight"]), xs[0]], node.name, axis=0)
