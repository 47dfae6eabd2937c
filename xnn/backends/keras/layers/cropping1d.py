"""Cropping1D: Keras ``Cropping1D`` with explicit ``(left, right)``."""
import keras

from ..lowering import KerasLowering


class Cropping1DK(KerasLowering):
    kind = "Cropping1D"

    def build(self, node, ctx):
        p = tuple(tuple(x) for x in node.layer.pairs())
        return keras.layers.Cropping1D(p[0], name=node.name, dtype=ctx.dtype)
