"""LSTM -> ``nn.LSTM`` (batch_first); parameter names (``weight_ih_l0``, ``bias_ih_l0``,
``bias_hh_l0``, ...) and gate order i, f, g, o are xnn's canonical ones, so the fused kernel
trains exactly the canonical parameters, both biases included."""
from torch import nn

from ..lowering import TorchLowering
from ._rnn import rnn_forward


class XLSTM(nn.LSTM):
    def __init__(self, layer, in_features: int):
        super().__init__(in_features, layer.units, num_layers=layer.num_layers, batch_first=True,
                         dropout=layer.dropout, bidirectional=layer.bidirectional)
        self.xnn_layer = layer

    def forward(self, x, *extra):
        return rnn_forward(self, super().forward, x, extra)


class LSTMT(TorchLowering):
    kind = "LSTM"
    layout = "cl"

    def build(self, node, ctx):
        return XLSTM(node.layer, node.in_shapes[0][-1])
