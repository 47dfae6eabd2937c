"""Concatenate: Keras ``Concatenate``; xnn's axis is already counted the Keras way."""
import keras

from ..lowering import KerasLowering


class ConcatenateK(KerasLowering):
    kind = "Concatenate"

    def build(self, node, ctx):
        rank = len(node.out_shape)
        return keras.layers.Concatenate(axis=1 + node.layer.sample_axis(rank), name=node.name, dtype=ctx.dtype)
