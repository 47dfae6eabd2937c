"""TransitionBlock: a composite, DenseNet's transition between dense blocks (torchvision's).

Shapes: ``(H, W, C)`` -> ``(floor(H/2), floor(W/2), floor(compression·C))``.
Parts: ``bn`` -> ``relu`` -> ``conv`` 1x1 (``floor(compression·C)`` filters, no bias) -> AvgPool2D
(2, stride 2, valid) named ``<node>``. ``compression`` in (0, 1], default 0.5 (DenseNet-BC);
``floor(compression·C)`` must be at least 1 and H, W at least 2.
"""
from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, PositiveFloat

from ..spec.layer import Case, Layer, ShapeError
from ..spec.registry import register
from ._cnn_blocks import Momentum, Parts, channels_of, infer_parts


@register
class TransitionBlock(Layer):
    kind = "TransitionBlock"
    type: Literal["TransitionBlock"] = "TransitionBlock"
    doc_shapes = "(H, W, C) -> (H/2, W/2, compression·C)"
    spatial_rank = 2
    shape_fields = ("compression",)

    compression: Annotated[float, Field(gt=0.0, le=1.0)] = 0.5
    """Output channel fraction in (0, 1]: floor(compression·C) filters in the 1x1 conv (DenseNet-BC: 0.5)."""
    eps: PositiveFloat = 1e-5
    """BatchNorm eps, added to the variance (PyTorch's default 1e-5; Keras's is 1e-3)."""
    momentum: Momentum = 0.1
    """BatchNorm momentum, PyTorch's convention: running = (1 - m)·running + m·batch (Keras's 0.99 is 1 - m)."""

    def out_channels(self, in_shapes) -> int:
        c = channels_of(self, in_shapes)
        out = math.floor(self.compression * c)
        if out < 1:
            raise ShapeError(f"compression {self.compression} of {c} channels leaves none", "compression")
        h, w, _ = in_shapes[0]
        if h < 2 or w < 2:
            raise ShapeError(f"the 2x2 average pooling needs an image of at least 2 x 2 (received {h} x {w})",
                             "inputs")
        return out

    def infer(self, in_shapes):
        self.out_channels(in_shapes)
        return infer_parts(self, in_shapes)

    def expand(self, inputs, in_shapes):
        out = self.out_channels(in_shapes)
        p = Parts(self)
        x = p.conv("conv", p.act("relu", p.bn("bn", inputs[0]), "relu"), out, 1)
        p.add("pool", "AvgPool2D", [x], pool_size=2, strides=2, padding="valid")
        return p.layers()

    @classmethod
    def cases(cls):
        return [Case({}, [(6, 4, 4)], "half"),
                Case({"compression": 0.4}, [(7, 5, 6)], "odd_size_c04"),
                Case({"compression": 1.0}, [(2, 2, 1)], "minimal")]
