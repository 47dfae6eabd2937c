"""PositionalEmbedding -> ``Add`` of the first ``T`` rows of the (learned or sinusoidal) table."""
from __future__ import annotations

from ....layers.positionalembedding import sinusoid_table
from ..mapping import OnnxMapping


class PositionalEmbeddingX(OnnxMapping):
    kind = "PositionalEmbedding"
    layout = "cl"

    def emit(self, node, g, xs, params, layout):
        L = node.layer
        t, f = node.in_shapes[0]
        table = params["weight"] if L.mode == "learned" else sinusoid_table(L.max_length, f)
        return g.op("Add", [xs[0], g.init(f"{node.name}.table", table[:t])], node.name)
