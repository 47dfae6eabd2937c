"""Cropping2D: Keras ``Cropping2D`` with explicit ``((top, bottom), (left, right))``."""
import keras

from ..lowering import KerasLowering


class Cropping2DK(KerasLowering):
    kind = "Cropping2D"

    def build(self, node, ctx):
        p = tuple(tuple(x) for x in node.layer.pairs())
        return keras.layers.Cropping2D(p, name=node.name, dtype=ctx.dtype)
