"""InvertedResidual: a composite, MobileNetV2's inverted residual block as torchvision builds it.

Shapes: ``(H, W, C)`` -> ``(ceil(H/s), ceil(W/s), filters)``, ``s = strides``. With the hidden
width ``h = round(C · expansion)`` (torchvision's ``int(round(inp * expand_ratio))``):
- ``expand`` 1x1 Conv2D(``h``) -> ``expand_bn`` -> ``expand_act`` (relu6); left out when
  ``expansion == 1``;
- ``dw`` depthwise ``kernel_size`` x ``kernel_size`` Conv2D(``h``, groups ``h``, ``strides``,
  symmetric padding ``(k-1)/2``, as torchvision; not TensorFlow's 'same') -> ``dw_bn`` -> ``dw_act``
  (relu6);
- ``project`` 1x1 Conv2D(``filters``) -> ``project_bn`` (linear: no activation);
- ``add`` (the residual, named ``<node>``) when ``strides == 1`` and ``C == filters``; otherwise
  ``project_bn`` is ``<node>``.
Convolutions have no bias; BatchNorms use ``eps``, ``momentum``; ``kernel_size`` must be odd.
"""
from __future__ import annotations

from typing import Literal

from pydantic import PositiveFloat, PositiveInt

from ..spec.layer import Case, Layer, ShapeError
from ..spec.registry import register
from ._cnn_blocks import Momentum, Parts, channels_of, infer_parts


@register
class InvertedResidual(Layer):
    kind = "InvertedResidual"
    type: Literal["InvertedResidual"] = "InvertedResidual"
    doc_shapes = "(H, W, C) -> (ceil(H/s), ceil(W/s), filters)"
    spatial_rank = 2
    shape_fields = ("filters", "strides", "kernel_size")

    filters: PositiveInt
    """Output channels (of the linear 1x1 projection)."""
    expansion: PositiveFloat = 6.0
    """Hidden width factor: round(C·expansion) channels; 1 leaves out the 1x1 expansion conv."""
    strides: PositiveInt = 1
    """Stride of the depthwise conv; the residual add needs 1 and C == filters."""
    kernel_size: PositiveInt = 3
    """Depthwise kernel size (odd), padded (k-1)/2 on each side as torchvision."""
    eps: PositiveFloat = 1e-5
    """BatchNorm eps, added to the variance (PyTorch's default 1e-5; Keras's is 1e-3)."""
    momentum: Momentum = 0.1
    """BatchNorm momentum, PyTorch's convention: running = (1 - m)·running + m·batch (Keras's 0.99 is 1 - m)."""

    def hidden(self, in_shapes) -> int:
        c = channels_of(self, in_shapes)
        if self.kernel_size % 2 == 0:
            raise ShapeError(f"kernel_size must be odd (received {self.kernel_size}): the depthwise conv pads "
                             f"(k-1)/2 on each side", "kernel_size")
        h = int(round(c * self.expansion))
        if h < 1:
            raise ShapeError(f"expansion {self.expansion} of {c} channels leaves no hidden channel", "expansion")
        return h

    def infer(self, in_shapes):
        self.hidden(in_shapes)
        return infer_parts(self, in_shapes)

    def expand(self, inputs, in_shapes):
        c, hid = channels_of(self, in_shapes), self.hidden(in_shapes)
        p, x, k = Parts(self), inputs[0], self.kernel_size
        h = x
        if self.expansion != 1:
            h = p.act("expand_act", p.bn("expand_bn", p.conv("expand", h, hid, 1)), "relu6")
        h = p.conv("dw", h, hid, k, self.strides, (k - 1) // 2, groups=hid)
        h = p.act("dw_act", p.bn("dw_bn", h), "relu6")
        h = p.bn("project_bn", p.conv("project", h, self.filters, 1))
        if self.strides == 1 and c == self.filters:
            p.add("add", "Add", [x, h])
        return p.layers()

    @classmethod
    def cases(cls):
        return [Case({"filters": 3, "expansion": 2}, [(5, 4, 3)], "residual"),
                Case({"filters": 4, "strides": 2, "expansion": 3}, [(9, 8, 2)], "stride2_channels"),
                Case({"filters": 2, "expansion": 1, "kernel_size": 5}, [(6, 5, 3)], "t1_k5"),
                Case({"filters": 1, "expansion": 1}, [(1, 1, 1)], "minimal")]
