"""Flatten in (H, W, C) order: layout "cl" makes the graph permute channels-first tensors first."""
import torch
from torch import nn

from ..lowering import TorchLowering


class _Flatten(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.flatten(x, 1)


class FlattenT(TorchLowering):
    kind = "Flatten"
    layout = "cl"

    def build(self, node, ctx):
        return _Flatten()
