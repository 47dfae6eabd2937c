"""Concatenate: ``torch.cat`` on the channels-last axis, mapped when tensors are channels-first."""
import torch
from torch import nn

from ..lowering import TorchLowering


class _Cat(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=self.dim)


class ConcatenateT(TorchLowering):
    kind = "Concatenate"
    layout = "any"

    def build(self, node, ctx):
        rank = len(node.out_shape)  # per-sample rank
        ax = 1 + node.layer.sample_axis(rank)  # batched channels-last axis
        if ctx.layout == "cf" and rank >= 2:
            ax = 1 if ax == rank else ax + 1  # (N, *S, C) -> (N, C, *S)
        return _Cat(ax)
