"""ChannelShuffle: a small serializable layer (Keras has none): reshape the channel axis to
``(groups, C / groups)``, swap the two, reshape back (channels-last)."""
import keras
from keras import ops

from ..lowering import KerasLowering


@keras.saving.register_keras_serializable(package="xnn")
class XnnChannelShuffle(keras.layers.Layer):
    def __init__(self, groups: int, **kw):
        super().__init__(**kw)
        self.groups = int(groups)

    def call(self, x):
        s = tuple(x.shape[1:])
        c = s[-1]
        y = ops.reshape(x, (-1, *s[:-1], self.groups, c // self.groups))
        r = len(s) + 1
        y = ops.transpose(y, (*range(r - 1), r, r - 1))
        return ops.reshape(y, (-1, *s))

    def compute_output_shape(self, s):
        return s

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}


class ChannelShuffleK(KerasLowering):
    kind = "ChannelShuffle"

    def build(self, node, ctx):
        return XnnChannelShuffle(node.layer.groups, name=node.name, dtype=ctx.dtype)
