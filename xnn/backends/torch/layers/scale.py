"""Scale: ``x * weight + bias`` in either layout. The canonical parameters have the per-sample
(channels-last) shape ``shape``; on a channels-first tensor they are given the full per-sample
rank and their channel axis is moved to the front, so they broadcast against ``(N, C, *S)``."""
import torch
from torch import nn

from ..lowering import TorchLowering


class XScale(nn.Module):
    def __init__(self, shape: tuple, rank: int, use_bias: bool, channels_first: bool):
        super().__init__()
        self.rank, self.channels_first = rank, channels_first
        self.weight = nn.Parameter(torch.ones(shape))
        self.bias = nn.Parameter(torch.zeros(shape)) if use_bias else None

    def _arranged(self, p: torch.Tensor) -> torch.Tensor:
        p = p.reshape((1,) * (self.rank - p.dim()) + tuple(p.shape))
        return p.movedim(self.rank - 1, 0) if self.channels_first else p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x * self._arranged(self.weight).to(x.dtype)
        if self.bias is not None:
            y = y + self._arranged(self.bias).to(x.dtype)
        return y

    def extra_repr(self) -> str:
        return f"{tuple(self.weight.shape)}, bias={self.bias is not None}, channels_first={self.channels_first}"


class ScaleT(TorchLowering):
    kind = "Scale"
    layout = "any"

    def build(self, node, ctx):
        L = node.layer
        s = node.in_shapes[0]
        return XScale(L.param_shape(s), len(s), L.use_bias, ctx.layout == "cf" and len(s) >= 2)
