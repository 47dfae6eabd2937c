import keras

from ..lowering import KerasLowering


class DenseK(KerasLowering):
    kind = "Dense"

    def build(self, node, ctx):
        return keras.layers.Dense(node.layer.units, use_bias=node.layer.use_bias, name=node.name, dtype=ctx.dtype)

    def to_native(self, node, p):
        return [p["weight"].T] + ([p["bias"]] if node.layer.use_bias else [])

    def from_native(self, node, w):
        out = {"weight": w[0].T}
        if node.layer.use_bias:
            out["bias"] = w[1]
        return out
