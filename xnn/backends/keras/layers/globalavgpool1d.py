"""GlobalAvgPool1D/2D: Keras ``GlobalAveragePooling*D`` (keepdims=False) on channels-last."""
import keras

from ..lowering import KerasLowering


class GlobalAvgPool1DK(KerasLowering):
    kind = "GlobalAvgPool1D"

    def build(self, node, ctx):
        return keras.layers.GlobalAveragePooling1D(name=node.name, dtype=ctx.dtype)
