"""Multiply: Keras ``Multiply``. Keras's merge layers broadcast inputs of a lower rank by inserting
unit axes after the batch axis (``expand_dims(axis=1)``), which is xnn's per-sample broadcasting."""
import keras

from ..lowering import KerasLowering


class MultiplyK(KerasLowering):
    kind = "Multiply"

    def build(self, node, ctx):
        return keras.layers.Multiply(name=node.name, dtype=ctx.dtype)
