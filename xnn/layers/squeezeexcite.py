"""SqueezeExcite: a composite, the squeeze-and-excitation channel gate (Hu et al.; torchvision's
``SqueezeExcitation``, Keras Applications' EfficientNet/MobileNetV3 blocks).

Shapes: ``(H, W, C)`` -> ``(H, W, C)``: ``y = x · gate(fc2(act(fc1(mean_hw(x)))))`` per channel.
Parts: ``pool`` GlobalAvgPool2D -> ``fc1`` Dense(``squeeze``) -> ``act`` (``activation``: relu |
silu) -> ``fc2`` Dense(``C``) -> ``gate`` (``gate``: sigmoid | hard_sigmoid, torch's
``Hardsigmoid`` = relu6(x + 3) / 6) -> Multiply(x, gate), named ``<node>`` (``(H, W, C) · (C,)``).
``squeeze`` is ``squeeze_units`` or ``max(1, floor(C · ratio))`` (Keras EfficientNet's rule);
give one of them (default: ``ratio`` 0.25). Both Dense layers have biases (torchvision's 1x1
convs on the pooled vector do), PyTorch's default init.
"""
from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import Field, PositiveInt

from ..spec.layer import Case, Layer, ShapeError
from ..spec.registry import register
from ._cnn_blocks import Parts, channels_of, infer_parts


@register
class SqueezeExcite(Layer):
    kind = "SqueezeExcite"
    type: Literal["SqueezeExcite"] = "SqueezeExcite"
    doc_shapes = "(H, W, C) -> (H, W, C)"
    spatial_rank = 2
    shape_fields = ()

    ratio: Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    """Squeeze width as a fraction of C: max(1, floor(C·ratio)); default 0.25 unless squeeze_units is given."""
    squeeze_units: PositiveInt | None = None
    """Squeeze width in units, instead of ratio."""
    activation: Literal["relu", "silu"] = "relu"
    """Activation after the squeeze Dense: relu or silu."""
    gate: Literal["sigmoid", "hard_sigmoid"] = "sigmoid"
    """Gate on the excitation: sigmoid or hard_sigmoid (relu6(x + 3) / 6)."""

    def squeeze(self, in_shapes) -> int:
        c = channels_of(self, in_shapes)
        if self.ratio is not None and self.squeeze_units is not None:
            raise ShapeError("give ratio or squeeze_units, not both", "squeeze_units")
        if self.squeeze_units is not None:
            return self.squeeze_units
        return max(1, math.floor(c * (0.25 if self.ratio is None else self.ratio)))

    def infer(self, in_shapes):
        self.squeeze(in_shapes)
        return infer_parts(self, in_shapes)

    def expand(self, inputs, in_shapes):
        c, sq = channels_of(self, in_shapes), self.squeeze(in_shapes)
        p, x = Parts(self), inputs[0]
        h = p.add("fc1", "Dense", [p.add("pool", "GlobalAvgPool2D", [x])], units=sq)
        h = p.add("fc2", "Dense", [p.act("act", h, self.activation)], units=c)
        p.add("scale", "Multiply", [x, p.act("gate", h, self.gate)])
        return p.layers()

    @classmethod
    def cases(cls):
        return [Case({}, [(5, 4, 8)], "ratio_default"),
                Case({"squeeze_units": 3, "gate": "hard_sigmoid", "activation": "silu"}, [(4, 3, 6)],
                     "units_hard_sigmoid"),
                Case({"ratio": 0.5}, [(3, 5, 3)], "ratio_odd_channels"),
                Case({}, [(1, 1, 1)], "minimal")]
