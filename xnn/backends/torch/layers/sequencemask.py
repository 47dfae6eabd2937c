"""SequenceMask: ``(N, T)`` or ``(N, T, F)`` padded input -> ``(N, T)`` float right-padding mask."""
import torch
from torch import nn

from ..lowering import TorchLowering


class XSequenceMask(nn.Module):
    def __init__(self, pad_value: float, dtype):
        super().__init__()
        self.pad_value, self.dtype = pad_value, dtype

    def forward(self, x):
        nonpad = x != self.pad_value
        if x.dim() == 3:
            nonpad = nonpad.any(dim=-1)
        # valid while some later-or-equal step is not padding (reversed cumulative sum)
        rev = torch.flip(torch.cumsum(torch.flip(nonpad.long(), [1]), dim=1), [1])
        return (rev > 0).to(self.dtype)


class SequenceMaskT(TorchLowering):
    kind = "SequenceMask"
    layout = "cl"

    def build(self, node, ctx):
        return XSequenceMask(node.layer.pad_value, ctx.dtype)
