"""UpSampling1D/2D. nearest: ``repeat_interleave`` on each spatial dim (exact: cell ``o`` copies
``o // s``; ``F.interpolate(nearest)`` computes the source index with a float32 scale); bilinear:
``F.interpolate(mode="bilinear", align_corners=False, size=...)`` (half-pixel centres, the
scale ``in/out`` in the tensor's precision), channels-first."""
import torch
from torch import nn
from torch.nn import functional as F

from ..lowering import TorchLowering


class _Repeat(nn.Module):
    def __init__(self, first: int, factors):
        super().__init__()
        self.first, self.factors = first, tuple(factors)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, s in enumerate(self.factors):
            if s > 1:
                x = x.repeat_interleave(s, dim=self.first + i)
        return x


class _Bilinear(nn.Module):
    def __init__(self, size):
        super().__init__()
        self.size = tuple(size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(x, size=self.size, mode="bilinear", align_corners=False)


class _UpSamplingT(TorchLowering):
    layout = "cf"

    def build(self, node, ctx):
        L = node.layer
        if L.method == "bilinear":
            return _Bilinear(node.out_shape[:-1])
        return _Repeat(2 if ctx.layout == "cf" else 1, L.factors())
