"""LRN: Keras has no LRN layer, so a small serializable one with xnn's (ONNX's) formula over the
last (channel) axis. (TensorFlow's ``tf.nn.local_response_normalization`` takes a radius and an
alpha that is not divided by the window size; it would also be 4-D only.)"""
import keras
from keras import ops

from ..lowering import KerasLowering


@keras.saving.register_keras_serializable(package="xnn")
class XnnLRN(keras.layers.Layer):
    """``x / (bias + alpha / size * window sum of x²) ** beta`` across channels (channels last)."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, bias: float = 1.0, **kw):
        super().__init__(**kw)
        self.size, self.alpha, self.beta, self.bias = int(size), float(alpha), float(beta), float(bias)

    def call(self, x):
        h = (self.size - 1) // 2
        c = x.shape[-1]
        sq = ops.pad(ops.square(x), [[0, 0]] * (len(x.shape) - 1) + [[h, h]])
        s = sq[..., 0:c]
        for i in range(1, self.size):
            s = s + sq[..., i:i + c]
        return x / ops.power(self.bias + (self.alpha / self.size) * s, self.beta)

    def compute_output_shape(self, s):
        return s

    def get_config(self):
        return {**super().get_config(), "size": self.size, "alpha": self.alpha, "beta": self.beta, "bias": self.bias}


class LRNK(KerasLowering):
    kind = "LRN"

    def build(self, node, ctx):
        L = node.layer
        return XnnLRN(L.size, L.alpha, L.beta, L.bias, name=node.name, dtype=ctx.dtype)
