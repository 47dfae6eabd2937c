"""PositionalEmbedding -> a serializable layer adding a learned ``(max_length, F)`` weight or the
sinusoidal table (a constant computed in NumPy float64, cast to the layer's dtype)."""
import keras
from keras import ops

from ....layers.positionalembedding import sinusoid_table
from ..lowering import KerasLowering


@keras.saving.register_keras_serializable(package="xnn")
class XnnPositionalEmbedding(keras.layers.Layer):
    def __init__(self, mode: str, max_length: int, width: int, **kw):
        super().__init__(**kw)
        self.mode, self.max_length, self.width = mode, int(max_length), int(width)
        if mode == "learned":
            self.weight = self.add_weight(shape=(self.max_length, self.width), initializer="zeros", name="weight")
        else:
            self.table = sinusoid_table(self.max_length, self.width)

    def call(self, x):
        t = x.shape[1]
        p = self.weight[:t] if self.mode == "learned" else ops.convert_to_tensor(self.table[:t], dtype=x.dtype)
        return x + ops.cast(p, x.dtype)

    def compute_output_shape(self, s):
        return s

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "max_length": self.max_length, "width": self.width}


class PositionalEmbeddingK(KerasLowering):
    kind = "PositionalEmbedding"

    def build(self, node, ctx):
        L = node.layer
        return XnnPositionalEmbedding(L.mode, L.max_length, node.in_shapes[0][-1], name=node.name, dtype=ctx.dtype)
