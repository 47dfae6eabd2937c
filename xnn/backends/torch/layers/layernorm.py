"""LayerNorm over the last (channels-last) axis with xnn's eps (PyTorch's default too)."""
from torch import nn

from ..lowering import TorchLowering


class LayerNormT(TorchLowering):
    kind = "LayerNorm"
    layout = "cl"

    def build(self, node, ctx):
        return nn.LayerNorm(node.in_shapes[0][-1], eps=node.layer.eps)
