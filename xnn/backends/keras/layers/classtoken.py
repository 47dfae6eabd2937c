"""ClassToken -> a serializable layer holding ``token (D,)`` (the canonical layout), prepended to
every sample: Keras has no class-token layer."""
import keras
from keras import ops

from ..lowering import KerasLowering


@keras.saving.register_keras_serializable(package="xnn")
class XnnClassToken(keras.layers.Layer):
    def __init__(self, width: int, **kw):
        super().__init__(**kw)
        self.width = int(width)
        self.token = self.add_weight(shape=(self.width,), initializer="zeros", name="token")

    def call(self, x):
        tok = ops.cast(ops.reshape(self.token, (1, 1, self.width)), x.dtype)
        return ops.concatenate([ops.broadcast_to(tok, (ops.shape(x)[0], 1, self.width)), x], axis=1)

    def compute_output_shape(self, s):
        return (s[0], None if s[1] is None else s[1] + 1, s[2])

    def get_config(self):
        return {**super().get_config(), "width": self.width}


class ClassTokenK(KerasLowering):
    kind = "ClassToken"

    def build(self, node, ctx):
        return XnnClassToken(node.in_shapes[0][-1], name=node.name, dtype=ctx.dtype)
