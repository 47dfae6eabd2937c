"""ZeroPadding1D: Keras ``ZeroPadding1D`` with explicit ``(left, right)``."""
import keras

from ..lowering import KerasLowering


class ZeroPadding1DK(KerasLowering):
    kind = "ZeroPadding1D"

    def build(self, node, ctx):
        p = tuple(tuple(x) for x in node.layer.pairs())
        return keras.layers.ZeroPadding1D(p[0], name=node.name, dtype=ctx.dtype)
