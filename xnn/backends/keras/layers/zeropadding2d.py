"""ZeroPadding2D: Keras ``ZeroPadding2D`` with explicit ``((top, bottom), (left, right))``."""
import keras

from ..lowering import KerasLowering


class ZeroPadding2DK(KerasLowering):
    kind = "ZeroPadding2D"

    def build(self, node, ctx):
        p = tuple(tuple(x) for x in node.layer.pairs())
        return keras.layers.ZeroPadding2D(p, name=node.name, dtype=ctx.dtype)
