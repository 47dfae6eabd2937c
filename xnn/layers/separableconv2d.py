"""SeparableConv2D: a composite with Keras's ``SeparableConv2D`` semantics.

Shapes: ``(H, W, C)`` -> ``(H', W', filters)``, ``H'``/``W'`` as Conv2D's with ``kernel_size``,
``strides``, ``padding`` (``valid`` | ``same`` as TensorFlow | explicit) and ``dilation``.
Parts: ``<node>_depthwise`` = Conv2D(``C·depth_multiplier``, ``kernel_size``, groups ``C``, no bias;
output channel ``c·depth_multiplier + m`` as Keras's DepthwiseConv2D), then the pointwise 1x1
Conv2D(``filters``), named ``<node>``, which holds the only bias (``use_bias``), as in Keras.
Params: ``<node>_depthwise.weight (C·M, 1, kh, kw)``, ``<node>.weight (filters, C·M, 1, 1)``,
``<node>.bias (filters,)``; PyTorch's default init for each conv.
"""
from __future__ import annotations

from typing import Literal

from pydantic import PositiveInt

from ..spec.layer import Case, Layer
from ..spec.registry import register
from ._cnn_blocks import Parts, channels_of, infer_parts
from ._conv_base import IntOrList, Padding


@register
class SeparableConv2D(Layer):
    kind = "SeparableConv2D"
    type: Literal["SeparableConv2D"] = "SeparableConv2D"
    doc_shapes = "(H, W, C) -> (H', W', filters)"
    spatial_rank = 2
    shape_fields = ("filters", "kernel_size", "strides", "padding", "dilation")

    filters: PositiveInt
    """Output channels (of the pointwise 1x1 conv)."""
    kernel_size: IntOrList
    """Depthwise kernel size, an int or [kh, kw]."""
    strides: IntOrList = 1
    """Stride of the depthwise conv, an int or [sh, sw]."""
    padding: Padding = "valid"
    """valid (none), same (TensorFlow's: the extra cell at the end) or cells per end: an int or per axis."""
    dilation: IntOrList = 1
    """Spacing between depthwise kernel taps, an int or [dh, dw]."""
    depth_multiplier: PositiveInt = 1
    """Depthwise outputs per input channel (M): C·M channels go into the pointwise conv."""
    use_bias: bool = True
    """Bias on the pointwise conv (the block's only bias, as in Keras)."""

    def infer(self, in_shapes):
        channels_of(self, in_shapes)
        return infer_parts(self, in_shapes)

    def expand(self, inputs, in_shapes):
        c = channels_of(self, in_shapes)
        p = Parts(self)
        x = p.conv("depthwise", inputs[0], c * self.depth_multiplier, self.kernel_size, self.strides, self.padding,
                   groups=c, dilation=self.dilation)
        p.conv("pointwise", x, self.filters, 1, use_bias=self.use_bias)
        return p.layers()

    @classmethod
    def cases(cls):
        return [Case({"filters": 4, "kernel_size": 3}, [(6, 5, 3)], "valid"),
                Case({"filters": 5, "kernel_size": 3, "strides": 2, "padding": "same", "depth_multiplier": 2},
                     [(9, 8, 3)], "same_stride2_mult2"),
                Case({"filters": 2, "kernel_size": [2, 3], "padding": "same", "dilation": 2, "use_bias": False},
                     [(5, 6, 2)], "dilated_rect_nobias"),
                Case({"filters": 3, "kernel_size": 1}, [(2, 2, 1)], "minimal")]
