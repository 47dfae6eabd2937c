"""ChannelShuffle: ``view(N, g, C/g, *S).transpose(1, 2).reshape(N, C, *S)`` on channels-first
tensors (PyTorch's ``nn.ChannelShuffle``), the same on the last axis of channels-last ones."""
import torch
from torch import nn

from ..lowering import TorchLowering


class XChannelShuffle(nn.Module):
    def __init__(self, groups: int, channel_axis: int):
        super().__init__()
        self.groups, self.axis = groups, channel_axis

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.axis % x.dim()
        s = x.shape
        y = x.reshape(*s[:a], self.groups, s[a] // self.groups, *s[a + 1:]).transpose(a, a + 1)
        return y.reshape(s)

    def extra_repr(self) -> str:
        return f"groups={self.groups}, channel_axis={self.axis}"


class ChannelShuffleT(TorchLowering):
    kind = "ChannelShuffle"
    layout = "any"

    def build(self, node, ctx):
        cf = ctx.layout == "cf" and len(node.in_shapes[0]) >= 2
        return XChannelShuffle(node.layer.groups, 1 if cf else -1)
