"""Reshape: Keras ``Reshape`` to the resolved per-sample shape (no -1 left to infer)."""
import keras

from ..lowering import KerasLowering


class ReshapeK(KerasLowering):
    kind = "Reshape"

    def build(self, node, ctx):
        return keras.layers.Reshape(tuple(node.out_shape), name=node.name, dtype=ctx.dtype)
