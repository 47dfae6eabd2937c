"""Scale: a small serializable layer, ``x * weight + bias`` with the canonical parameter shape
(Keras is channels-last, so the per-sample shape broadcasts as it is). Keras has no such layer."""
import keras

from ..lowering import KerasLowering


@keras.saving.register_keras_serializable(package="xnn")
class XnnScale(keras.layers.Layer):
    def __init__(self, shape, use_bias: bool = True, **kw):
        super().__init__(**kw)
        self.param_shape = tuple(int(v) for v in shape)
        self.use_bias = bool(use_bias)

    def build(self, input_shape):
        self.weight = self.add_weight(shape=self.param_shape, initializer="ones", name="weight")
        self.bias = self.add_weight(shape=self.param_shape, initializer="zeros", name="bias") if self.use_bias else None

    def call(self, x):
        y = x * self.weight
        return y + self.bias if self.use_bias else y

    def compute_output_shape(self, s):
        return s

    def get_config(self):
        return {**super().get_config(), "shape": list(self.param_shape), "use_bias": self.use_bias}


class ScaleK(KerasLowering):
    kind = "Scale"

    def build(self, node, ctx):
        L = node.layer
        return XnnScale(L.param_shape(node.in_shapes[0]), L.use_bias, name=node.name, dtype=ctx.dtype)
