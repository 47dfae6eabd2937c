"""GroupNorm: PyTorch's own ``nn.GroupNorm`` (same grouping, biased variance, eps, affine) on the
channel axis 1; a channels-last tensor has its channel axis moved there and back."""
import torch
from torch import nn

from ..lowering import TorchLowering


class XGroupNorm(nn.GroupNorm):
    """``nn.GroupNorm`` that also takes channels-last tensors (``channel_last``); params ``weight``, ``bias``."""

    def __init__(self, groups: int, channels: int, eps: float, affine: bool, channel_last: bool):
        super().__init__(groups, channels, eps=eps, affine=affine)
        self.channel_last = channel_last

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = x.dim()
        if self.channel_last and r >= 3:  # permute, not movedim: torch's ONNX exporter mis-shapes movedim here
            y = super().forward(x.permute(0, r - 1, *range(1, r - 1)))
            return y.permute(0, *range(2, r), 1)
        return super().forward(x)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, channel_last={self.channel_last}"


class GroupNormT(TorchLowering):
    kind = "GroupNorm"
    layout = "any"

    def build(self, node, ctx):
        L = node.layer
        c = node.in_shapes[0][-1]
        return XGroupNorm(L.num_groups(c), c, L.eps, L.affine, ctx.layout == "cl")
