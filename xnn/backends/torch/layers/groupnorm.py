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
        if self.channel_last and x.dim() >= 3:
            return super().forward(x.movedim(-1, 1)).movedim(1, -1)
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
