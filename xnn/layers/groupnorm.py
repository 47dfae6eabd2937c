"""GroupNorm: normalize each sample over its spatial axes and groups of channels (PyTorch's
``GroupNorm``), then scale and shift per channel.

Channels-last input ``(..., C)``: ``(C,)``, ``(L, C)``, ``(H, W, C)``. The ``C`` channels form
``groups`` contiguous groups of ``C / groups`` (channel ``c`` is in group ``c // (C / groups)``, as
in PyTorch and Keras); mean and **biased** variance are taken per sample and group, over every
spatial axis and the group's channels:
``y = (x - mean) / sqrt(var + eps) * weight + bias``. No running statistics: training and
evaluation compute the same thing.

Fields: ``groups`` (required; must divide ``C``; ``-1`` = one group per channel, instance
normalization), ``eps`` > 0 (default 1e-5, PyTorch's; Keras's ``GroupNormalization`` defaults
to 1e-3), ``affine`` (default true: ``weight (C,)`` ones and ``bias (C,)`` zeros, group ``norm``;
false: no parameters, PyTorch's ``affine=False``).

``InstanceNorm`` is this layer with ``groups: -1`` (PyTorch's ``InstanceNorm1d/2d`` with
``track_running_stats=False``; note that PyTorch's InstanceNorm defaults to ``affine=False``
where xnn keeps GroupNorm's ``affine: true``). ``groups: 1`` normalizes each sample over all of
its values (PyTorch's ``GroupNorm(1, C)``; not LayerNorm, which xnn applies over the last axis).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import PositiveFloat, field_validator

from ..spec.layer import Case, Layer, Param, ShapeError
from ..spec.registry import alias, register


@register
class GroupNorm(Layer):
    kind = "GroupNorm"
    shape_fields = ()
    type: Literal["GroupNorm"] = "GroupNorm"
    groups: int
    """Contiguous channel groups, must divide C; -1: one group per channel (instance normalization)."""
    eps: PositiveFloat = 1e-5
    """Added to the variance before the square root (PyTorch's default 1e-5; Keras's is 1e-3)."""
    affine: bool = True
    """Learn a per-channel weight and bias; false: none (PyTorch's affine=False)."""

    @field_validator("groups")
    @classmethod
    def _check_groups(cls, v: int) -> int:
        if v == 0 or v < -1:
            raise ValueError("must be a positive number of groups, or -1 (one group per channel)")
        return v

    def num_groups(self, channels: int) -> int:
        """The number of groups for ``channels`` channels (``groups``, or ``channels`` for -1)."""
        return channels if self.groups == -1 else self.groups

    def infer(self, in_shapes):
        (s,) = in_shapes
        if len(s) < 1:
            raise ShapeError("GroupNorm needs an input with a channel axis (the last)")
        c = s[-1]
        g = self.num_groups(c)
        if c % g:
            raise ShapeError(f"{g} groups do not divide the {c} channels (the last axis)", "groups")
        return s

    def params(self, in_shapes):
        if not self.affine:
            return {}
        c = in_shapes[0][-1]
        return {"weight": Param((c,), "ones", group="norm"), "bias": Param((c,), "zeros", group="norm")}

    def forward(self, p, xs, training=False):
        x = xs[0]
        c = x.shape[-1]
        g = self.num_groups(c)
        xg = x.reshape(x.shape[0], -1, g, c // g)
        mean = xg.mean(axis=(1, 3), keepdims=True)
        var = ((xg - mean) ** 2).mean(axis=(1, 3), keepdims=True)
        y = ((xg - mean) / np.sqrt(var + self.eps)).reshape(x.shape)
        return y * p["weight"] + p["bias"] if self.affine else y

    @classmethod
    def cases(cls):
        return [
            Case({"groups": 2}, [(5, 3, 6)], "image_2_groups"),
            Case({"groups": 3, "eps": 1e-3}, [(7, 6)], "signal_eps1e-3"),
            Case({"groups": 1}, [(3, 5, 4)], "one_group"),
            Case({"groups": -1}, [(5, 4, 3)], "instance"),
            Case({"groups": 6}, [(4, 3, 6)], "groups_equal_channels"),
            Case({"groups": 4}, [(8,)], "vector"),
            Case({"groups": 2, "affine": False}, [(5, 3, 4)], "no_affine"),
            Case({"groups": -1, "affine": False}, [(9, 2)], "instance_signal_no_affine"),
            Case({"groups": 2}, [(1, 1, 4)], "one_pixel"),
        ]


alias("InstanceNorm", "GroupNorm", groups=-1)
