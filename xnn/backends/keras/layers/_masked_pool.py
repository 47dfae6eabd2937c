"""Masked pooling over time -> a serializable layer (Keras's GlobalAveragePooling1D(mask=) divides
by the mask sum too, but has no masked max and no zero for empty samples)."""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="xnn")
class XnnMaskedPool(keras.layers.Layer):
    def __init__(self, op: str = "avg", **kw):
        super().__init__(**kw)
        self.op = op

    def call(self, inputs):
        x, mask = inputs
        m = mask[:, :, None]
        if self.op == "avg":
            return ops.sum(x * m, axis=1) / ops.maximum(ops.sum(m, axis=1), 1.0)
        valid = ops.greater(m, 0.5)
        # padded steps take the sequence's minimum, which never exceeds a valid step; no -inf,
        # which converters such as tf2onnx turn into NaN (-inf * 0)
        y = ops.max(ops.where(valid, x, ops.min(x, axis=1, keepdims=True)), axis=1)
        return ops.where(ops.any(valid, axis=1), y, ops.zeros_like(y))

    def compute_output_shape(self, s):
        return (s[0][0], s[0][2])

    def get_config(self):
        return {**super().get_config(), "op": self.op}
