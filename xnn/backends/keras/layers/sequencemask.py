"""SequenceMask -> a small serializable layer computing xnn's right-padding mask."""
import keras
from keras import ops

from ..lowering import KerasLowering


@keras.saving.register_keras_serializable(package="xnn")
class XnnSequenceMask(keras.layers.Layer):
    """``(N, T)`` ids or ``(N, T, F)`` features -> ``(N, T)`` float mask, 1 = valid (a prefix)."""

    def __init__(self, pad_value: float = 0.0, **kw):
        super().__init__(**kw)
        self.pad_value = float(pad_value)

    def call(self, x):
        nonpad = ops.not_equal(x, ops.cast(self.pad_value, x.dtype))
        if len(x.shape) == 3:
            nonpad = ops.any(nonpad, axis=-1)
        rev = ops.flip(ops.cumsum(ops.flip(ops.cast(nonpad, "int32"), 1), axis=1), 1)
        return ops.cast(ops.greater(rev, 0), self.compute_dtype)

    def compute_output_shape(self, s):
        return tuple(s[:2])

    def get_config(self):
        return {**super().get_config(), "pad_value": self.pad_value}


class SequenceMaskK(KerasLowering):
    kind = "SequenceMask"

    def build(self, node, ctx):
        return XnnSequenceMask(node.layer.pad_value, name=node.name, dtype=ctx.dtype)
