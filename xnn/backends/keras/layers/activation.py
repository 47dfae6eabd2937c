"""Activations. Keras layers whose constants are float32 (LeakyReLU, ELU) would round the
slope in float64 models, so those run through an exact serializable layer. relu6, hard_sigmoid
(Keras 3: ``relu6(x + 3) / 6``, not Keras 2's ``0.2·x + 0.5``) and hard_swish (Keras's
``hard_silu``) are Keras's own activations, whose constants are exact in every dtype.
"""
import keras
from keras import ops

from ..lowering import KerasLowering


@keras.saving.register_keras_serializable(package="xnn")
class XnnActivation(keras.layers.Layer):
    """Elementwise activation with xnn's exact formula (slope/alpha kept as Python floats)."""

    def __init__(self, fn: str, negative_slope: float = 0.01, alpha: float = 1.0, **kw):
        super().__init__(**kw)
        self.fn, self.negative_slope, self.alpha = fn, float(negative_slope), float(alpha)

    def call(self, x):
        if self.fn == "leaky_relu":
            return ops.where(x >= 0, x, x * self.negative_slope)
        if self.fn == "elu":
            return ops.where(x > 0, x, self.alpha * ops.expm1(ops.minimum(x, 0.0)))
        if self.fn == "gelu":  # tf.nn.gelu rounds its constants to float32
            return 0.5 * x * (1.0 + ops.erf(x * 0.7071067811865476))
        if self.fn == "gelu_tanh":
            return 0.5 * x * (1.0 + ops.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))
        raise ValueError(self.fn)

    def compute_output_shape(self, s):
        return s

    def get_config(self):
        return {**super().get_config(), "fn": self.fn, "negative_slope": self.negative_slope, "alpha": self.alpha}


class ActivationK(KerasLowering):
    kind = "Activation"

    def build(self, node, ctx):
        L = node.layer
        kw = dict(name=node.name, dtype=ctx.dtype)
        f = L.fn
        if f == "softmax":
            return keras.layers.Softmax(axis=L.axis, **kw)
        if f in ("leaky_relu", "elu", "gelu", "gelu_tanh"):
            return XnnActivation(f, L.negative_slope, L.alpha, **kw)
        return keras.layers.Activation(_KERAS_NAMES.get(f, f), **kw)


_KERAS_NAMES = {"hard_swish": "hard_silu"}
