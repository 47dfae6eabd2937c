"""GlobalAvgPool1D/2D: Keras ``GlobalAveragePooling*D`` (keepdims=False) on channels-last."""
import keras

from ..lowering import KerasLowering


class GlobalAvgPool2DK(KerasLowering):
    kind = "GlobalAvgPool2D"

    def build(self, node, ctx):
        return keras.layers.GlobalAveragePooling2D(name=node.name, dtype=ctx.dtype)
