"""UpSampling2D. nearest: Keras ``UpSampling2D(interpolation="nearest")`` (``ops.repeat``, exact);
bilinear: ``XnnUpSampling2D``, a serializable layer applying xnn's half-pixel interpolation
matrices (float64, one per spatial axis, two entries per row) with ``einsum``. Keras's own
bilinear goes through ``tf.image.resize``, whose kernel computes the interpolation weights in
float32 (about 1e-7 off in a float64 model)."""
import keras
from keras import ops

from ..lowering import KerasLowering


@keras.saving.register_keras_serializable(package="xnn")
class XnnUpSampling2D(keras.layers.Layer):
    """Half-pixel bilinear upsampling by integer factors (channels-last), xnn's formula."""

    def __init__(self, size=(2, 2), **kw):
        super().__init__(**kw)
        self.size = tuple(int(s) for s in size)

    def build(self, input_shape):
        from ....layers._upsampling import linear_matrix

        self._ah = linear_matrix(int(input_shape[1]), self.size[0])
        self._aw = linear_matrix(int(input_shape[2]), self.size[1])

    def call(self, x):
        ah = ops.convert_to_tensor(self._ah, dtype=x.dtype)
        aw = ops.convert_to_tensor(self._aw, dtype=x.dtype)
        y = ops.einsum("oh,nhwc->nowc", ah, x)
        return ops.einsum("pw,nowc->nopc", aw, y)

    def compute_output_shape(self, s):
        return (s[0], s[1] * self.size[0], s[2] * self.size[1], s[3])

    def get_config(self):
        return {**super().get_config(), "size": list(self.size)}


class UpSampling2DK(KerasLowering):
    kind = "UpSampling2D"

    def build(self, node, ctx):
        L = node.layer
        f = L.factors()
        if L.method == "bilinear":
            return XnnUpSampling2D(f, name=node.name, dtype=ctx.dtype)
        return keras.layers.UpSampling2D(f, interpolation="nearest", name=node.name, dtype=ctx.dtype)
