"""Subtract: ``inputs[0] - inputs[1]`` with NumPy broadcasting of the per-sample shapes, in either
layout (see ``_pointwise``)."""
from ..lowering import TorchLowering
from ._pointwise import build


class SubtractT(TorchLowering):
    kind = "Subtract"
    layout = "any"

    def build(self, node, ctx):
        return build("sub", node, ctx)
