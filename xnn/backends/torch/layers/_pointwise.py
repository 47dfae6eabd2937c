"""Shared by Multiply and Subtract: NumPy broadcasting of per-sample shapes on batch tensors.

Every input of per-sample rank ``r`` below the output's ``R`` gets ``R - r`` unit axes: right
after the batch axis on channels-last tensors (``(N, *s)`` -> ``(N, 1, .., 1, *s)``), right after
the channel axis on channels-first ones (``(N, C, *S)`` -> ``(N, C, 1, .., 1, *S)``). A rank-1
input ``(N, C)`` is the same tensor in both layouts, so ``(C,)`` scales channels either way.
"""
from __future__ import annotations

import torch
from torch import nn


class Broadcasting(nn.Module):
    """``op`` folded over the inputs after aligning their ranks (``op``: ``mul`` | ``sub``)."""

    def __init__(self, op: str, ranks: list[int], channels_first: bool):
        super().__init__()
        self.op = op
        out = max(ranks)
        # per input: where the unit axes go (None: already the output rank) and how many
        self.fill = [None if r == out else ((2 if channels_first else 1), out - r) for r in ranks]

    def _align(self, x: torch.Tensor, fill) -> torch.Tensor:
        if fill is None:
            return x
        at, k = fill
        s = x.shape
        return x.reshape(*s[:at], *(1,) * k, *s[at:])

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = self._align(xs[0], self.fill[0])
        for x, fill in zip(xs[1:], self.fill[1:]):
            y = self._align(x, fill)
            out = out * y if self.op == "mul" else out - y
        return out

    def extra_repr(self) -> str:
        return f"{self.op}, fill={self.fill}"


def build(op: str, node, ctx) -> Broadcasting:
    return Broadcasting(op, [len(s) for s in node.in_shapes], ctx.layout == "cf" and len(node.out_shape) >= 2)
