"""Conv1D/Conv2D: Keras's own 'same' is TF's (extra pad at the end), as xnn defines it;
explicit symmetric padding goes through ZeroPadding. A depthwise conv (``groups`` = input
channels) is Keras's ``DepthwiseConv*D`` (kernel ``(*k, C, M)``, output channel ``c*M + m`` as
xnn's): TF runs it much faster than a grouped ``Conv2D``, and tf2onnx converts it. Other grouped
convs use Keras's ``groups``.
"""
import keras
import numpy as np

from ....layers._conv import resolve_pads
from ..lowering import KerasLowering


def is_depthwise(node) -> bool:
    """Grouped with one group per input channel: Keras's ``DepthwiseConv*D``."""
    g = node.layer.groups
    return g > 1 and g == node.in_shapes[0][-1]


class _ConvK(KerasLowering):
    nd = 2

    def build(self, node, ctx):
        L = node.layer
        k, s, d, pads = L.geometry(node.in_shapes[0])
        padding = L.padding if L.padding in ("valid", "same") else "valid"
        if padding == "valid" and L.padding != "valid" and tuple(map(tuple, pads)) == tuple(
                map(tuple, resolve_pads("same", node.in_shapes[0][:self.nd], k, s, d))):
            padding = "same"  # explicit pads that are TF's 'same' ones (3x3, pad 1, stride 1): no pad op
        if padding == "same" and any(x > 1 for x in s) and any(x > 1 for x in d):
            padding = "valid"  # Keras refuses strides>1 with dilation>1; we pad explicitly
        if is_depthwise(node):
            cls = keras.layers.DepthwiseConv2D if self.nd == 2 else keras.layers.DepthwiseConv1D
            return cls(k, strides=s, padding=padding, depth_multiplier=L.filters // L.groups, dilation_rate=d,
                       use_bias=L.use_bias, name=node.name, dtype=ctx.dtype)
        cls = keras.layers.Conv2D if self.nd == 2 else keras.layers.Conv1D
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
        w = p["weight"]  # (O, I/g, *k) -> (*k, I/g, O); depthwise (C*M, 1, *k) -> (*k, C, M)
        if is_depthwise(node):
            c = node.layer.groups
            kw = np.transpose(w.reshape(c, -1, *w.shape[2:]), (*range(2, w.ndim), 0, 1))
        else:
            kw = np.transpose(w, (*range(2, w.ndim), 1, 0))
        return [kw] + ([p["bias"]] if node.layer.use_bias else [])

    def from_native(self, node, w):
        k = w[0]
        nd = k.ndim - 2
        if is_depthwise(node):
            c, m = k.shape[-2], k.shape[-1]
            out = {"weight": np.transpose(k, (nd, nd + 1, *range(nd))).reshape(c * m, 1, *k.shape[:nd])}
        else:
            out = {"weight": np.transpose(k, (nd + 1, nd, *range(nd)))}
        if node.layer.use_bias:
            out["bias"] = w[1]
        return out
