"""GlobalMaxPool1D/2D: the maximum over the spatial dims, in whichever layout the tensor arrives."""
import torch
from torch import nn

from ..lowering import TorchLowering


class _SpatialMax(nn.Module):
    def __init__(self, dims: tuple[int, ...]):
        super().__init__()
        self.dims = dims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.amax(dim=self.dims)


class _GlobalMaxPoolT(TorchLowering):
    layout = "any"
    nd = 2

    def build(self, node, ctx):
        # (N, C, *S) for cf, (N, *S, C) for cl
        first = 2 if ctx.layout == "cf" else 1
        return _SpatialMax(tuple(range(first, first + self.nd)))
