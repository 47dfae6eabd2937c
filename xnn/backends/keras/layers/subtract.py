"""Subtract: Keras ``Subtract`` (``inputs[0] - inputs[1]``), broadcasting lower ranks after the
batch axis as ``Multiply`` does."""
import keras

from ..lowering import KerasLowering


class SubtractK(KerasLowering):
    kind = "Subtract"

    def build(self, node, ctx):
        return keras.layers.Subtract(name=node.name, dtype=ctx.dtype)
