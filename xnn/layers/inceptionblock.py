"""InceptionBlock: a composite, the Inception (v1, GoogLeNet) module with four branches.

Shapes: ``(H, W, C)`` -> ``(H, W, filters_1x1 + filters_3x3 + filters_5x5 + pool_proj)``; every
branch keeps the spatial size (stride 1, symmetric padding ``k // 2``):
- ``b1``: 1x1 (``filters_1x1``);
- ``b2_reduce``: 1x1 (``filters_3x3_reduce``) -> ``b2``: 3x3 (``filters_3x3``);
- ``b3_reduce``: 1x1 (``filters_5x5_reduce``) -> ``b3``: 5x5 (``filters_5x5``), the paper's 5x5
  (torchvision's GoogLeNet uses a 3x3 here);
- ``b4_pool``: MaxPool2D 3x3 stride 1 ``same`` (pads are -inf, never chosen) -> ``b4``: 1x1
  (``pool_proj``);
- Concatenate on channels in that order, named ``<node>``.
Each conv unit is Conv2D -> [BatchNorm ``<conv>_bn``] -> ReLU ``<conv>_relu``: with
``batch_norm: true`` (default, torchvision's BasicConv2d) the conv has no bias; with ``false``
(the paper) it has one and no BatchNorm follows.
"""
from __future__ import annotations

from typing import Literal

from pydantic import PositiveFloat, PositiveInt

from ..spec.layer import Case, Layer
from ..spec.registry import register
from ._cnn_blocks import Momentum, Parts, channels_of, infer_parts


@register
class InceptionBlock(Layer):
    kind = "InceptionBlock"
    type: Literal["InceptionBlock"] = "InceptionBlock"
    doc_shapes = "(H, W, C) -> (H, W, filters_1x1 + filters_3x3 + filters_5x5 + pool_proj)"
    spatial_rank = 2
    shape_fields = ("filters_1x1", "filters_3x3", "filters_5x5", "pool_proj")

    filters_1x1: PositiveInt
    """Filters of the 1x1 branch (b1)."""
    filters_3x3_reduce: PositiveInt
    """Filters of the 1x1 reduction before the 3x3 branch."""
    filters_3x3: PositiveInt
    """Filters of the 3x3 branch (b2)."""
    filters_5x5_reduce: PositiveInt
    """Filters of the 1x1 reduction before the 5x5 branch."""
    filters_5x5: PositiveInt
    """Filters of the 5x5 branch (b3; the paper's 5x5, where torchvision has a 3x3)."""
    pool_proj: PositiveInt
    """Filters of the 1x1 conv after the 3x3 max pool (b4)."""
    batch_norm: bool = True
    """Conv (no bias), BatchNorm, ReLU as torchvision; false: conv with bias, ReLU (the paper)."""
    eps: PositiveFloat = 1e-5
    """BatchNorm eps, added to the variance (PyTorch's default 1e-5; Keras's is 1e-3)."""
    momentum: Momentum = 0.1
    """BatchNorm momentum, PyTorch's convention: running = (1 - m)·running + m·batch (Keras's 0.99 is 1 - m)."""

    def infer(self, in_shapes):
        channels_of(self, in_shapes)
        return infer_parts(self, in_shapes)

    def expand(self, inputs, in_shapes):
        channels_of(self, in_shapes)
        p, x = Parts(self), inputs[0]

        def unit(part, h, filters, k):
            h = p.conv(part, h, filters, k, padding=k // 2, use_bias=not self.batch_norm)
            if self.batch_norm:
                h = p.bn(part + "_bn", h)
            return p.act(part + "_relu", h, "relu")

        b1 = unit("b1", x, self.filters_1x1, 1)
        b2 = unit("b2", unit("b2_reduce", x, self.filters_3x3_reduce, 1), self.filters_3x3, 3)
        b3 = unit("b3", unit("b3_reduce", x, self.filters_5x5_reduce, 1), self.filters_5x5, 5)
        b4 = unit("b4", p.add("b4_pool", "MaxPool2D", [x], pool_size=3, strides=1, padding="same"), self.pool_proj, 1)
        p.add("cat", "Concatenate", [b1, b2, b3, b4], axis=-1)
        return p.layers()

    @classmethod
    def cases(cls):
        f = {"filters_1x1": 2, "filters_3x3_reduce": 2, "filters_3x3": 3, "filters_5x5_reduce": 1, "filters_5x5": 2,
             "pool_proj": 1}
        return [Case(f, [(5, 6, 3)], "bn"),
                Case({**f, "batch_norm": False}, [(4, 3, 2)], "paper_bias"),
                Case({k: 1 for k in f}, [(1, 1, 1)], "minimal")]
