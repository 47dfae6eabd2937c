"""SpatialDropout1D: Keras ``SpatialDropout1D`` (noise shape ``(N, 1, C)``, inverted scaling)."""
import keras

from ..lowering import KerasLowering


class SpatialDropout1DK(KerasLowering):
    kind = "SpatialDropout1D"

    def build(self, node, ctx):
        return keras.layers.SpatialDropout1D(node.layer.rate, name=node.name, dtype=ctx.dtype)
