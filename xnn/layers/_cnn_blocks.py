"""Shared helpers of the block composites (PatchEmbedding, SeparableConv2D, SqueezeExcite,
InvertedResidual, ResidualBlock, DenseBlock, TransitionBlock, InceptionBlock).

A composite builds its parts with :class:`Parts` (``<block>_<part>`` names; the last part is
renamed to ``<block>`` so later nodes use it), and its ``infer`` walks the very parts ``expand``
returns (:func:`infer_parts`), so the block's shape rule cannot drift from its parts.
"""
from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ..spec.layer import Layer, Shape, ShapeError
from ..spec.registry import resolve_type

Prob = Annotated[float, Field(ge=0, lt=1)]
Momentum = Annotated[float, Field(ge=0.0, le=1.0)]


class Parts:
    """Collects the part nodes of one block, wired by name."""

    def __init__(self, block: Layer):
        self.block = block
        self.nodes: list[dict] = []

    def add(self, part: str, type_: str, ins: list[str], **fields) -> str:
        name = f"{self.block.name}_{part}"
        self.nodes.append({"type": type_, "name": name, "inputs": list(ins), "trainable": self.block.trainable,
                           **fields})
        return name

    def conv(self, part: str, x: str, filters: int, kernel, strides=1, padding="valid", groups: int = 1,
             use_bias: bool = False, dilation=1) -> str:
        return self.add(part, "Conv2D", [x], filters=filters, kernel_size=kernel, strides=strides, padding=padding,
                        groups=groups, dilation=dilation, use_bias=use_bias)

    def bn(self, part: str, x: str) -> str:
        b = self.block
        return self.add(part, "BatchNorm", [x], eps=b.eps, momentum=b.momentum)

    def act(self, part: str, x: str, fn: str) -> str:
        return self.add(part, "Activation", [x], fn=fn)

    def layers(self) -> list[Layer]:
        """The parts as registry layers; the last one carries the block's own name."""
        nodes = [dict(d) for d in self.nodes]
        nodes[-1]["name"] = self.block.name
        return [resolve_type(d["type"])[0].model_validate(d) for d in nodes]


def infer_parts(block: Layer, in_shapes: list[Shape]) -> Shape:
    """The output shape of ``block``: its parts' shape rules, in order. A part that refuses its
    input is reported with the part's name (the block's own checks come first and name the
    block's fields)."""
    names = [f"#in{i}" for i in range(len(in_shapes))]
    shapes = dict(zip(names, [tuple(s) for s in in_shapes]))
    out: Shape = ()
    for part in block.expand(names, list(in_shapes)):
        try:
            out = tuple(int(d) for d in part.infer([shapes[x] for x in part.inputs]))
        except ShapeError as e:
            raise ShapeError(f"part {part.name} ({part.kind}): {e}", None) from None
        shapes[part.name] = out
    return out


def channels_of(block: Layer, in_shapes: list[Shape]) -> int:
    """C of an ``(H, W, C)`` input; ShapeError on ``inputs`` otherwise."""
    (s,) = in_shapes
    if len(s) != 3:
        raise ShapeError(f"{block.kind} needs an (H, W, C) image per sample (received rank {len(s)})", "inputs")
    return int(s[-1])
