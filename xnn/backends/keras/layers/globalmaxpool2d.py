"""GlobalMaxPool2D: Keras ``GlobalMaxPooling2D`` (keepdims=False) on channels-last."""
import keras

from ..lowering import KerasLowering


class GlobalMaxPool2DK(KerasLowering):
    kind = "GlobalMaxPool2D"

    def build(self, node, ctx):
        return keras.layers.GlobalMaxPooling2D(name=node.name, dtype=ctx.dtype)
