from torch import nn

from ..lowering import TorchLowering


class DenseT(TorchLowering):
    kind = "Dense"
    layout = "cl"

    def build(self, node, ctx):
        return nn.Linear(node.in_shapes[0][-1], node.layer.units, bias=node.layer.use_bias)
