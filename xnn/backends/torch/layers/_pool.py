"""Shared torch pooling module: TF-style 'same' (asymmetric pads at the end) on channels-first.

Max pads with -inf. Average divides each window's sum by its count of real (unpadded) cells, a
constant mask computed once at build time; torch's ``count_include_pad=False`` alone would only
cover symmetric padding.
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..lowering import TorchLowering
from ._conv import _torch_pads


class XPool(nn.Module):
    """``op`` max | avg pooling over the ``nd`` trailing axes of ``(N, C, *S)``."""

    def __init__(self, op: str, k: tuple[int, ...], s: tuple[int, ...], pads, spatial: tuple[int, ...]):
        super().__init__()
        self.op, self.nd = op, len(k)
        # 1-D runs as 2-D with a singleton height: one code path, and avg_pool1d lacks divisor_override
        self.k = (1, *k) if self.nd == 1 else tuple(k)
        self.s = (1, *s) if self.nd == 1 else tuple(s)
        self.fpad = _torch_pads(pads) if any(lo or hi for lo, hi in pads) else None
        if op == "avg" and self.fpad is not None:
            ones = F.pad(torch.ones(1, 1, *spatial, dtype=torch.float64), self.fpad)
            count = self._sum(ones)
            self.register_buffer("count", count, persistent=False)  # not a canonical param

    def _sum(self, x: torch.Tensor) -> torch.Tensor:
        if self.nd == 1:
            return F.avg_pool2d(x.unsqueeze(-2), self.k, self.s, divisor_override=1).squeeze(-2)
        return F.avg_pool2d(x, self.k, self.s, divisor_override=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.op == "max":
            if self.fpad is not None:
                x = F.pad(x, self.fpad, value=float("-inf"))
            if self.nd == 1:
                return F.max_pool1d(x, self.k[1], self.s[1])
            return F.max_pool2d(x, self.k, self.s)
        if self.fpad is None:
            if self.nd == 1:
                return F.avg_pool1d(x, self.k[1], self.s[1])
            return F.avg_pool2d(x, self.k, self.s)
        return self._sum(F.pad(x, self.fpad)) / self.count


class PoolT(TorchLowering):
    """Base lowering of the four pooling kinds; subclasses set ``kind`` and ``op``."""

    layout = "cf"
    op = "max"

    def build(self, node, ctx):
        k, s, pads = node.layer.geometry(node.in_shapes[0])
        return XPool(self.op, k, s, pads, tuple(node.in_shapes[0][:-1]))
