"""Add: Keras ``Add``."""
import keras

from ..lowering import KerasLowering


class AddK(KerasLowering):
    kind = "Add"

    def build(self, node, ctx):
        return keras.layers.Add(name=node.name, dtype=ctx.dtype)
