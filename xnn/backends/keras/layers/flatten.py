"""Flatten: Keras's channels-last ``Flatten`` is already xnn's (H, W, C) order."""
import keras

from ..lowering import KerasLowering


class FlattenK(KerasLowering):
    kind = "Flatten"

    def build(self, node, ctx):
        return keras.layers.Flatten(name=node.name, dtype=ctx.dtype)
