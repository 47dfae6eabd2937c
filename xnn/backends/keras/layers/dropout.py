"""Dropout: Keras ``Dropout`` is inverted dropout with the same ``rate``."""
import keras

from ..lowering import KerasLowering


class DropoutK(KerasLowering):
    kind = "Dropout"

    def build(self, node, ctx):
        return keras.layers.Dropout(node.layer.rate, name=node.name, dtype=ctx.dtype)
