"""SpatialDropout2D: Keras ``SpatialDropout2D`` channels-last (noise shape ``(N, 1, 1, C)``)."""
import keras

from ..lowering import KerasLowering


class SpatialDropout2DK(KerasLowering):
    kind = "SpatialDropout2D"

    def build(self, node, ctx):
        return keras.layers.SpatialDropout2D(node.layer.rate, data_format="channels_last", name=node.name,
                                             dtype=ctx.dtype)
