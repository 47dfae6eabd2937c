"""UpSampling1D: Keras ``UpSampling1D(size)`` (``ops.repeat`` along the steps, exact)."""
import keras

from ..lowering import KerasLowering


class UpSampling1DK(KerasLowering):
    kind = "UpSampling1D"

    def build(self, node, ctx):
        return keras.layers.UpSampling1D(node.layer.factors()[0], name=node.name, dtype=ctx.dtype)
