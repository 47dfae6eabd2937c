"""GlobalMaxPool1D: Keras ``GlobalMaxPooling1D`` (keepdims=False) on channels-last."""
import keras

from ..lowering import KerasLowering


class GlobalMaxPool1DK(KerasLowering):
    kind = "GlobalMaxPool1D"

    def build(self, node, ctx):
        return keras.layers.GlobalMaxPooling1D(name=node.name, dtype=ctx.dtype)
