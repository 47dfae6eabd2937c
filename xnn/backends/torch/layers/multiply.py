"""Multiply: elementwise product with NumPy broadcasting of the per-sample shapes, in either
layout (the graph gives every input of rank >= 2 the first's; see ``_pointwise``)."""
from ..lowering import TorchLowering
from ._pointwise import build


class MultiplyT(TorchLowering):
    kind = "Multiply"
    layout = "any"

    def build(self, node, ctx):
        return build("mul", node, ctx)
