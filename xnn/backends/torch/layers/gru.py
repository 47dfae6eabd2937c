"""GRU -> ``nn.GRU`` (batch_first); parameter names and gate order are xnn's canonical ones."""
from torch import nn

from ..lowering import TorchLowering
from ._rnn import rnn_forward


class XGRU(nn.GRU):
    def __init__(self, layer, in_features: int):
        super().__init__(in_features, layer.units, num_layers=layer.num_layers, batch_first=True,
                         dropout=layer.dropout, bidirectional=layer.bidirectional)
        self.xnn_layer = layer

    def forward(self, x, *extra):
        return rnn_forward(self, super().forward, x, extra)


class GRUT(TorchLowering):
    kind = "GRU"
    layout = "cl"

    def build(self, node, ctx):
        return XGRU(node.layer, node.in_shapes[0][-1])
