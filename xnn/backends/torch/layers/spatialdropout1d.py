"""SpatialDropout1D: ``nn.Dropout1d`` on the channels-first ``(N, C, L)`` tensor (whole channels,
inverted scaling, PyTorch's ``p`` = xnn's ``rate``)."""
from torch import nn

from ..lowering import TorchLowering


class SpatialDropout1DT(TorchLowering):
    kind = "SpatialDropout1D"
    layout = "cf"

    def build(self, node, ctx):
        return nn.Dropout1d(node.layer.rate)
