"""LSTM -> ONNX ``LSTM`` per stacked layer (gate blocks i,f,g,o -> i,o,f,c; ``B = [b_ih, b_hh]``,
PyTorch's two biases as xnn keeps them; ``sequence_lens`` from the mask; time-major between
Transposes)."""
from __future__ import annotations

from ..mapping import OnnxMapping
from ._seq import rnn


class LSTMX(OnnxMapping):
    kind = "LSTM"
    layout = "cl"

    def emit(self, node, g, xs, params, layout):
        return rnn(node, g, xs, params, "LSTM")
