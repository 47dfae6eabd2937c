"""Shared Keras pooling lowering: Keras's 'same' is TF's (extra pad at the end, average over real
cells only), exactly xnn's definition, so the native layers are used as they are.
"""
import keras

from ..lowering import KerasLowering

_CLASSES = {
    ("max", 1): keras.layers.MaxPooling1D,
    ("max", 2): keras.layers.MaxPooling2D,
    ("avg", 1): keras.layers.AveragePooling1D,
    ("avg", 2): keras.layers.AveragePooling2D,
}


class PoolK(KerasLowering):
    """Base lowering of the four pooling kinds; subclasses set ``kind``, ``op`` and ``nd``."""

    op = "max"
    nd = 2

    def build(self, node, ctx):
        L = node.layer
        k, s, _ = L.geometry(node.in_shapes[0])
        return _CLASSES[(self.op, self.nd)](pool_size=k, strides=s, padding=L.padding,
                                            name=node.name, dtype=ctx.dtype)
