"""GRU -> ONNX ``GRU(linear_before_reset=1)`` per stacked layer (gate blocks r,z,n -> z,r,h;
``B = [b_ih, b_hh]``; ``sequence_lens`` from the mask)."""
from __future__ import annotations

from ..mapping import OnnxMapping
from ._seq import rnn


class GRUX(OnnxMapping):
    kind = "GRU"
    layout = "cl"

    def emit(self, node, g, xs, params, layout):
        return rnn(node, g, xs, params, "GRU")
