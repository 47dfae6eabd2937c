"""SpatialDropout2D: ``nn.Dropout2d`` on the channels-first ``(N, C, H, W)`` tensor (whole
channels, inverted scaling, PyTorch's ``p`` = xnn's ``rate``)."""
from torch import nn

from ..lowering import TorchLowering


class SpatialDropout2DT(TorchLowering):
    kind = "SpatialDropout2D"
    layout = "cf"

    def build(self, node, ctx):
        return nn.Dropout2d(node.layer.rate)
