"""Masked pooling over time: x ``(N, T, F)``, mask ``(N, T)`` -> ``(N, F)``."""
import torch
from torch import nn


class XMaskedPool(nn.Module):
    def __init__(self, op: str):
        super().__init__()
        self.op = op

    def forward(self, x, mask):
        m = mask[:, :, None]
        if self.op == "avg":
            return (x * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
        valid = m > 0.5
        y = torch.where(valid, x, torch.full_like(x, float("-inf"))).amax(dim=1)
        return torch.where(valid.any(dim=1), y, torch.zeros_like(y))
