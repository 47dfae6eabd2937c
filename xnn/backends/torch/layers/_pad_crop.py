"""ZeroPadding1D/2D (``F.pad`` with zeros) and Cropping1D/2D (slicing), in whichever layout the
tensor arrives (the spatial axes are the last ones channels-first, the middle ones channels-last)."""
import torch
from torch import nn
from torch.nn import functional as F

from ..lowering import TorchLowering


def _fpad(pairs, cf: bool) -> list[int]:
    """xnn per-axis (lo, hi) -> F.pad's (last_lo, last_hi, prev_lo, prev_hi, ...)."""
    out = [] if cf else [0, 0]  # channels-last: the channel axis comes last, unpadded
    for lo, hi in reversed(pairs):
        out += [lo, hi]
    return out


class _ZeroPad(nn.Module):
    def __init__(self, pads: list[int]):
        super().__init__()
        self.pads = pads

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.pad(x, self.pads)


class _Crop(nn.Module):
    def __init__(self, first: int, pairs):
        super().__init__()
        self.first, self.pairs = first, [tuple(p) for p in pairs]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i, (lo, hi) in enumerate(self.pairs):
            d = self.first + i
            x = x.narrow(d, lo, x.shape[d] - lo - hi)
        return x


class _ZeroPaddingT(TorchLowering):
    layout = "any"

    def build(self, node, ctx):
        return _ZeroPad(_fpad(node.layer.pairs(), ctx.layout == "cf"))


class _CroppingT(TorchLowering):
    layout = "any"

    def build(self, node, ctx):
        return _Crop(2 if ctx.layout == "cf" else 1, node.layer.pairs())
