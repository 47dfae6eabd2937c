"""BatchNorm with xnn's (PyTorch's) exact formula. Keras's ``BatchNormalization`` has another
momentum meaning, eps default and a biased running variance, so this is a small custom layer.
"""
import keras
from keras import ops

from ..lowering import KerasLowering


@keras.saving.register_keras_serializable(package="xnn")
class XnnBatchNorm(keras.layers.Layer):
    """Per-channel (last axis) batch normalization, xnn semantics.

    Weights in order: ``weight``, ``bias`` (trainable), ``running_mean``, ``running_var``.
    ``training=True`` uses the batch mean and biased variance and updates the running statistics
    with ``momentum`` as the weight of the batch and the unbiased variance; a layer with
    ``trainable=False`` is frozen and uses its running statistics in training too.
    """

    def __init__(self, eps: float = 1e-5, momentum: float = 0.1, **kw):
        super().__init__(**kw)
        self.eps, self.momentum = float(eps), float(momentum)

    def build(self, input_shape):
        c = (input_shape[-1],)
        self.weight = self.add_weight(shape=c, initializer="ones", name="weight")
        self.bias = self.add_weight(shape=c, initializer="zeros", name="bias")
        self.running_mean = self.add_weight(shape=c, initializer="zeros", name="running_mean", trainable=False)
        self.running_var = self.add_weight(shape=c, initializer="ones", name="running_var", trainable=False)

    def call(self, x, training=None):
        if training and self.trainable:
            axes = tuple(range(len(x.shape) - 1))
            mean = ops.mean(x, axis=axes)
            # biased, for normalization; d var / d mean = -2·mean(x - mean) = 0, so the mean inside
            # is a constant for the gradient (as tf.nn.moments has it): one backward path less
            var = ops.mean(ops.square(x - ops.stop_gradient(mean)), axis=axes)
            n = ops.cast(ops.size(x) // x.shape[-1], x.dtype)
            m = self.momentum
            self.running_mean.assign((1.0 - m) * self.running_mean + m * mean)
            self.running_var.assign((1.0 - m) * self.running_var + m * var * n / (n - 1.0))
        else:
            mean, var = self.running_mean, self.running_var
        # PyTorch's CPU kernel's form: per-channel scale and shift, then two elementwise passes over
        # x (x·a + b) instead of four ((x - mean) / sqrt(var + eps) · weight + bias)
        a = ops.rsqrt(var + self.eps) * self.weight
        return x * a + (self.bias - mean * a)

    def compute_output_shape(self, s):
        return s

    def get_config(self):
        return {**super().get_config(), "eps": self.eps, "momentum": self.momentum}


class BatchNormK(KerasLowering):
    kind = "BatchNorm"

    def build(self, node, ctx):
        L = node.layer
        return XnnBatchNorm(L.eps, L.momentum, name=node.name, dtype=ctx.dtype, trainable=L.trainable)
