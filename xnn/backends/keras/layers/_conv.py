"""Conv1D/Conv2D: Keras's own 'same' is TF's (extra pad at the end), as xnn defines it;
explicit symmetric padding goes through ZeroPadding. Grouped convs use Keras's ``groups``.
"""
import keras
import numpy as np

from ..lowering import KerasLowering


class _ConvK(KerasLowering):
    nd = 2

    def build(self, node, ctx):
        L = node.layer
        k, s, d, pads = L.geometry(node.in_shapes[0])
        cls = keras.layers.Conv2D if self.nd == 2 else keras.layers.Conv1D
        padding = L.padding if L.padding in ("valid", "same") else "valid"
        if padding == "same" and any(x > 1 for x in s) and any(x > 1 for x in d):
            padding = "valid"  # Keras refuses strides>1 with dilation>1; we pad explicitly
        return cls(L.filters, k, strides=s, padding=padding, dilation_rate=d, groups=L.groups,
                   use_bias=L.use_bias, name=node.name, dtype=ctx.dtype)

    def apply(self, layer, xs, node, ctx):
        x = xs[0]
        L = node.layer
        if layer.padding == "valid" and L.padding != "valid":
            _, _, _, pads = L.geometry(node.in_shapes[0])
            pad_cls = keras.layers.ZeroPadding2D if self.nd == 2 else keras.layers.ZeroPadding1D
            pp = tuple(pads) if self.nd == 2 else pads[0]
            x = pad_cls(pp, name=f"{node.name}__pad", dtype=ctx.dtype)(x)
        return layer(x)

    def to_native(self, node, p):
        w = p["weight"]  # (O, I/g, *k) -> (*k, I/g, O)
        kw = np.transpose(w, (*range(2, w.ndim), 1, 0))
        return [kw] + ([p["bias"]] if node.layer.use_bias else [])

    def from_native(self, node, w):
        k = w[0]
        nd = k.ndim - 2
        out = {"weight": np.transpose(k, (nd + 1, nd, *range(nd)))}
        if node.layer.use_bias:
            out["bias"] = w[1]
        return out
