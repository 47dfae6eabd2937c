"""LRN: PyTorch's ``LocalResponseNorm`` (alpha divided by size, as xnn's; the same window for odd
sizes) on channels-first tensors; a vector ``(N, C)`` gets a unit axis first (torch needs 3-D)."""
import torch
from torch import nn

from ..lowering import TorchLowering


class XLocalResponseNorm(nn.LocalResponseNorm):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            return super().forward(x.unsqueeze(-1)).squeeze(-1)
        return super().forward(x)


class LRNT(TorchLowering):
    kind = "LRN"
    layout = "cf"

    def build(self, node, ctx):
        L = node.layer
        return XLocalResponseNorm(L.size, alpha=L.alpha, beta=L.beta, k=L.bias)
