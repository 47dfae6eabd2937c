"""LSTM -> ``nn.LSTM`` (batch_first). xnn keeps one bias per gate block (``bias_l{k}{s}``, the sum
``b_ih + b_hh``): the module's ``bias_ih`` parameters are renamed to it and its ``bias_hh`` become
zero buffers, so the fused kernel trains exactly xnn's (and Keras's) parameters."""
import torch
from torch import nn

from ..lowering import TorchLowering
from ._rnn import rnn_forward


class XLSTM(nn.LSTM):
    def __init__(self, layer, in_features: int):
        super().__init__(in_features, layer.units, num_layers=layer.num_layers, batch_first=True,
                         dropout=layer.dropout, bidirectional=layer.bidirectional)
        self.xnn_layer = layer
        names = []
        for name in self._flat_weights_names:
            if name.startswith("bias_ih"):
                p = getattr(self, name)
                delattr(self, name)
                name = name.replace("bias_ih", "bias")
                self.register_parameter(name, p)
            elif name.startswith("bias_hh"):
                zero = torch.zeros_like(getattr(self, name)).detach()
                delattr(self, name)
                self.register_buffer(name, zero, persistent=False)
            names.append(name)
        self._flat_weights_names = names
        self._all_weights = [[n.replace("bias_ih", "bias") for n in ws] for ws in self._all_weights]
        self._init_flat_weights()

    def forward(self, x, *extra):
        return rnn_forward(self, super().forward, x, extra)


class LSTMT(TorchLowering):
    kind = "LSTM"
    layout = "cl"

    def build(self, node, ctx):
        return XLSTM(node.layer, node.in_shapes[0][-1])
