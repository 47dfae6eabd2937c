"""GroupNorm with xnn's (PyTorch's) formula in a small serializable Keras layer. Keras's own
``GroupNormalization`` groups channels the same way but defaults to eps 1e-3, computes the
variance as ``E[x²] - E[x]²`` (``ops.moments``) and folds the scale into ``rsqrt``: a different
rounding, so xnn does not use it. Weights in order: ``weight``, ``bias`` (when ``affine``).
"""
import math

import keras
from keras import ops

from ..lowering import KerasLowering


@keras.saving.register_keras_serializable(package="xnn")
class XnnGroupNorm(keras.layers.Layer):
    """Per-sample normalization over the spatial axes and ``groups`` contiguous channel groups
    (channels last), then ``* weight + bias`` per channel."""

    def __init__(self, groups: int, eps: float = 1e-5, affine: bool = True, **kw):
        super().__init__(**kw)
        self.groups, self.eps, self.affine = int(groups), float(eps), bool(affine)

    def build(self, input_shape):
        c = input_shape[-1]
        self._spatial = math.prod(input_shape[1:-1])
        if self.affine:
            self.weight = self.add_weight(shape=(c,), initializer="ones", name="weight")
            self.bias = self.add_weight(shape=(c,), initializer="zeros", name="bias")

    def call(self, x):
        c = x.shape[-1]
        g = self.groups
        xg = ops.reshape(x, (-1, self._spatial, g, c // g))
        mean = ops.mean(xg, axis=(1, 3), keepdims=True)
        d = xg - mean
        var = ops.mean(ops.square(d), axis=(1, 3), keepdims=True)
        y = ops.reshape(d / ops.sqrt(var + self.eps), (-1, *x.shape[1:]))
        return y * self.weight + self.bias if self.affine else y

    def compute_output_shape(self, s):
        return s

    def get_config(self):
        return {**super().get_config(), "groups": self.groups, "eps": self.eps, "affine": self.affine}


class GroupNormK(KerasLowering):
    kind = "GroupNorm"

    def build(self, node, ctx):
        L = node.layer
        return XnnGroupNorm(L.num_groups(node.in_shapes[0][-1]), L.eps, L.affine, name=node.name, dtype=ctx.dtype)
