"""ChannelShuffle: ShuffleNet's channel shuffle, ``groups`` interleaved.

The channels (the last axis) are seen as a ``(groups, C / groups)`` matrix, transposed and read
back: output channel ``j`` is input channel ``(j % groups) * (C / groups) + j // groups``. This is
``x.view(N, g, C/g, H, W).transpose(1, 2).reshape(N, C, H, W)`` in channels-first code
(PyTorch's ``nn.ChannelShuffle``; the ONNX pattern Reshape, Transpose, Reshape).

Shapes: ``(C,)``, ``(L, C)``, ``(H, W, C)`` -> same; ``groups`` divides ``C``. No parameters.
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import PositiveInt

from ..spec.layer import Case, Layer, ShapeError
from ..spec.registry import register


def shuffle_order(c: int, groups: int) -> np.ndarray:
    """Output channel j reads input channel ``order[j]``."""
    return np.arange(c).reshape(groups, c // groups).T.reshape(-1)


@register
class ChannelShuffle(Layer):
    kind = "ChannelShuffle"
    shape_fields = ()
    type: Literal["ChannelShuffle"] = "ChannelShuffle"
    groups: PositiveInt
    """Channel groups interleaved (ShuffleNet); must divide the channels C."""

    def infer(self, in_shapes):
        (s,) = in_shapes
        if not 1 <= len(s) <= 3:
            raise ShapeError(f"ChannelShuffle takes (C,), (L, C) or (H, W, C) inputs (rank {len(s)} given)")
        if s[-1] % self.groups:
            raise ShapeError(f"groups {self.groups} does not divide the {s[-1]} channels", "groups")
        return s

    def forward(self, p, xs, training=False):
        x = xs[0]
        return x[..., shuffle_order(x.shape[-1], self.groups)]

    @classmethod
    def cases(cls):
        return [
            Case({"groups": 3}, [(4, 5, 6)], "image"),
            Case({"groups": 2}, [(7, 4)], "signal"),
            Case({"groups": 4}, [(8,)], "vector"),
            Case({"groups": 1}, [(3, 3, 5)], "one_group"),
            Case({"groups": 6}, [(2, 3, 6)], "groups_equal_channels"),
        ]
