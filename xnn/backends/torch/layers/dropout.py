"""Dropout: ``nn.Dropout`` is already inverted dropout with PyTorch's ``p`` = xnn's ``rate``."""
from torch import nn

from ..lowering import TorchLowering


class DropoutT(TorchLowering):
    kind = "Dropout"
    layout = "any"  # elementwise

    def build(self, node, ctx):
        return nn.Dropout(node.layer.rate)
