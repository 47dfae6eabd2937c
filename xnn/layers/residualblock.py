"""ResidualBlock: a composite, ResNet's blocks as torchvision builds them (v1.5: the stride sits
on the 3x3 convolution).

Shapes: ``(H, W, C)`` -> ``(H', W', filters·e)`` with ``H' = ceil(H / strides)`` (3x3 convs pad 1;
the 1x1 projection pads 0) and ``e = 1`` (basic) or ``expansion`` (bottleneck, default 4).
Convolutions have no bias (a BatchNorm follows each); BatchNorms use ``eps``, ``momentum``.
- ``variant: basic``: ``conv1`` 3x3/``strides`` -> ``bn1`` -> ``relu1`` -> ``conv2`` 3x3 -> ``bn2``.
- ``variant: bottleneck``: ``conv1`` 1x1 -> ``bn1`` -> ``relu1`` -> ``conv2`` 3x3/``strides`` -> ``bn2``
  -> ``relu2`` -> ``conv3`` 1x1 (``filters·expansion``) -> ``bn3``.
- Shortcut: the input itself, or, when ``strides != 1`` or the channels change, ``proj`` 1x1
  conv/``strides`` -> ``proj_bn`` (torchvision's ``downsample``).
- Then ``add`` and the final ReLU, named ``<node>``.
"""
from __future__ import annotations

from typing import Literal

from pydantic import PositiveFloat, PositiveInt

from ..spec.layer import Case, Layer, ShapeError
from ..spec.registry import register
from ._cnn_blocks import Momentum, Parts, channels_of, infer_parts


@register
class ResidualBlock(Layer):
    kind = "ResidualBlock"
    type: Literal["ResidualBlock"] = "ResidualBlock"
    doc_shapes = "(H, W, C) -> (ceil(H/s), ceil(W/s), filters·expansion)"
    spatial_rank = 2
    shape_fields = ("filters", "strides", "variant", "expansion")

    filters: PositiveInt
    """Width of the convs; output channels filters (basic) or filters·expansion (bottleneck)."""
    strides: PositiveInt = 1
    """Stride of the 3x3 conv and of the projection shortcut (torchvision v1.5)."""
    variant: Literal["basic", "bottleneck"] = "basic"
    """basic (two 3x3 convs) or bottleneck (1x1, 3x3, 1x1)."""
    expansion: PositiveInt | None = None
    """Bottleneck only: the last 1x1 conv has filters·expansion channels; default 4."""
    eps: PositiveFloat = 1e-5
    """BatchNorm eps, added to the variance (PyTorch's default 1e-5; Keras's is 1e-3)."""
    momentum: Momentum = 0.1
    """BatchNorm momentum, PyTorch's convention: running = (1 - m)·running + m·batch (Keras's 0.99 is 1 - m)."""

    def out_channels(self) -> int:
        if self.variant == "basic":
            if self.expansion not in (None, 1):
                raise ShapeError(f"expansion {self.expansion} applies to variant: bottleneck only (basic keeps "
                                 f"filters channels)", "expansion")
            return self.filters
        return self.filters * (4 if self.expansion is None else self.expansion)

    def infer(self, in_shapes):
        channels_of(self, in_shapes)
        self.out_channels()
        return infer_parts(self, in_shapes)

    def expand(self, inputs, in_shapes):
        c, out = channels_of(self, in_shapes), self.out_channels()
        p, x, s, f = Parts(self), inputs[0], self.strides, self.filters
        if self.variant == "basic":
            h = p.act("relu1", p.bn("bn1", p.conv("conv1", x, f, 3, s, 1)), "relu")
            h = p.bn("bn2", p.conv("conv2", h, f, 3, 1, 1))
        else:
            h = p.act("relu1", p.bn("bn1", p.conv("conv1", x, f, 1)), "relu")
            h = p.act("relu2", p.bn("bn2", p.conv("conv2", h, f, 3, s, 1)), "relu")
            h = p.bn("bn3", p.conv("conv3", h, out, 1))
        short = x if s == 1 and c == out else p.bn("proj_bn", p.conv("proj", x, out, 1, s))
        p.act("relu", p.add("add", "Add", [h, short]), "relu")
        return p.layers()

    @classmethod
    def cases(cls):
        return [Case({"filters": 3}, [(5, 4, 3)], "basic_identity"),
                Case({"filters": 4, "strides": 2}, [(9, 8, 3)], "basic_stride2_proj"),
                Case({"filters": 2, "variant": "bottleneck"}, [(4, 5, 8)], "bottleneck_identity"),
                Case({"filters": 2, "variant": "bottleneck", "strides": 2, "expansion": 2}, [(7, 6, 3)],
                     "bottleneck_stride2_proj"),
                Case({"filters": 1}, [(1, 1, 1)], "minimal")]
