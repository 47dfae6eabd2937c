"""DenseBlock: a composite, DenseNet's dense block as torchvision builds it.

Shapes: ``(H, W, C)`` -> ``(H, W, C + layers·growth_rate)``. Layer ``i`` (1-based, parts
``<node>_l<i>_*``) reads everything so far, ``h``, and its output is concatenated after it:
- ``bottleneck: true``: ``bn1`` -> ``relu1`` -> ``conv1`` 1x1 (``bn_size·growth_rate``) -> ``bn2`` ->
  ``relu2`` -> ``conv2`` 3x3 pad 1 (``growth_rate``);
- ``bottleneck: false``: ``bn`` -> ``relu`` -> ``conv`` 3x3 pad 1 (``growth_rate``);
- ``drop`` (Dropout ``dropout``, only when ``dropout > 0``), then ``cat`` = Concatenate([h, new])
  on channels; the last ``cat`` is ``<node>``. The channel order is torchvision's and Keras's:
  input first, then each layer's output in order.
Convolutions have no bias; BatchNorms use ``eps``, ``momentum``.
"""
from __future__ import annotations

from typing import Literal

from pydantic import PositiveFloat, PositiveInt

from ..spec.layer import Case, Layer
from ..spec.registry import register
from ._cnn_blocks import Momentum, Parts, Prob, channels_of, infer_parts


@register
class DenseBlock(Layer):
    kind = "DenseBlock"
    type: Literal["DenseBlock"] = "DenseBlock"
    doc_shapes = "(H, W, C) -> (H, W, C + layers·growth_rate)"
    spatial_rank = 2
    shape_fields = ("layers", "growth_rate")

    layers: PositiveInt
    """Layers in the block; each adds growth_rate channels."""
    growth_rate: PositiveInt
    """Channels each layer adds (concatenated after its input)."""
    bottleneck: bool = True
    """Each layer starts with BN-ReLU-1x1 conv to bn_size·growth_rate channels (DenseNet-B)."""
    bn_size: PositiveInt = 4
    """Bottleneck width factor: the 1x1 conv has bn_size·growth_rate filters."""
    dropout: Prob = 0.0
    """Dropout probability after each layer, in training; 0: none."""
    eps: PositiveFloat = 1e-5
    """BatchNorm eps, added to the variance (PyTorch's default 1e-5; Keras's is 1e-3)."""
    momentum: Momentum = 0.1
    """BatchNorm momentum, PyTorch's convention: running = (1 - m)·running + m·batch (Keras's 0.99 is 1 - m)."""

    def infer(self, in_shapes):
        channels_of(self, in_shapes)
        return infer_parts(self, in_shapes)

    def expand(self, inputs, in_shapes):
        channels_of(self, in_shapes)
        p, h, k = Parts(self), inputs[0], self.growth_rate
        for i in range(1, self.layers + 1):
            q = f"l{i}_"
            if self.bottleneck:
                y = p.conv(q + "conv1", p.act(q + "relu1", p.bn(q + "bn1", h), "relu"), self.bn_size * k, 1)
                y = p.conv(q + "conv2", p.act(q + "relu2", p.bn(q + "bn2", y), "relu"), k, 3, 1, 1)
            else:
                y = p.conv(q + "conv", p.act(q + "relu", p.bn(q + "bn", h), "relu"), k, 3, 1, 1)
            if self.dropout > 0:
                y = p.add(q + "drop", "Dropout", [y], rate=self.dropout)
            h = p.add(q + "cat", "Concatenate", [h, y], axis=-1)
        return p.layers()

    @classmethod
    def cases(cls):
        return [Case({"layers": 2, "growth_rate": 3}, [(5, 4, 2)], "bottleneck"),
                Case({"layers": 3, "growth_rate": 2, "bottleneck": False, "dropout": 0.2}, [(4, 5, 3)],
                     "plain_dropout"),
                Case({"layers": 1, "growth_rate": 1, "bn_size": 2}, [(1, 1, 1)], "minimal")]
