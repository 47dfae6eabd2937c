"""LayerNorm: Keras ``LayerNormalization(axis=-1)`` with xnn's eps passed explicitly (Keras's own
default is 1e-3); ``gamma``/``beta`` are ``weight``/``bias``.
"""
import keras

from ..lowering import KerasLowering


class LayerNormK(KerasLowering):
    kind = "LayerNorm"

    def build(self, node, ctx):
        return keras.layers.LayerNormalization(axis=-1, epsilon=node.layer.eps, name=node.name, dtype=ctx.dtype)
