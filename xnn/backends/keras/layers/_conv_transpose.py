"""ConvTranspose1D/2D. Keras's ``Conv*DTranspose`` where its semantics are xnn's: groups 1,
dilation 1, and padding ``same`` (TF's rule: output ``L*s``, the extra cell cut at the end) or
``valid`` with an explicit ``output_padding`` (output ``(L-1)*s + k + output_padding``; Keras's
``valid`` without it would give ``L*s`` where the stride exceeds the kernel). Everything else
(explicit padding, dilation > 1, which TF's CPU kernel refuses, groups) runs through
``XnnConvTranspose``, a serializable layer computing the full transposed convolution per group
(a zero-dilated kernel for dilation), cutting ``(lo, hi)`` cells per axis (zeros appended where
``hi < 0``) and adding the bias. Both hold ``kernel (*k, F/groups, C)`` and ``bias (F,)``:
``kernel = weight.transpose(*k axes, 1, 0)``.
"""
import keras
import numpy as np
from keras import ops

from ..lowering import KerasLowering


@keras.saving.register_keras_serializable(package="xnn")
class XnnConvTranspose(keras.layers.Layer):
    """xnn's transposed convolution (channels-last): full output, per-axis cut, then bias."""

    def __init__(self, filters, kernel_size, strides, dilation, cut, groups=1, use_bias=True, **kw):
        super().__init__(**kw)
        self.filters, self.groups, self.use_bias = int(filters), int(groups), bool(use_bias)
        self.kernel_size = tuple(int(v) for v in kernel_size)
        self.strides = tuple(int(v) for v in strides)
        self.dilation = tuple(int(v) for v in dilation)
        self.cut = tuple((int(lo), int(hi)) for lo, hi in cut)

    def build(self, input_shape):
        c = int(input_shape[-1])
        self.kernel = self.add_weight(shape=(*self.kernel_size, self.filters // self.groups, c), name="kernel")
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")

    def _dilated(self, k):
        for ax, d in enumerate(self.dilation):
            if d == 1:
                continue
            n = k.shape[ax]
            parts = [ops.expand_dims(k, ax + 1)] + [ops.expand_dims(ops.zeros_like(k), ax + 1)] * (d - 1)
            k = ops.concatenate(parts, axis=ax + 1)  # (..., n, d, ...): each tap then d - 1 zeros
            shape = list(k.shape)
            k = ops.reshape(k, shape[:ax] + [n * d] + shape[ax + 2:])
            k = ops.take(k, np.arange((n - 1) * d + 1), axis=ax)
        return k

    def call(self, x):
        nd = len(self.kernel_size)
        c = x.shape[-1]
        cg = c // self.groups
        outs = []
        for g in range(self.groups):
            xg = x if self.groups == 1 else x[..., g * cg:(g + 1) * cg]
            kg = self.kernel if self.groups == 1 else self.kernel[..., g * cg:(g + 1) * cg]
            outs.append(ops.conv_transpose(xg, self._dilated(kg), strides=self.strides, padding="valid",
                                           output_padding=0, data_format="channels_last"))
        y = outs[0] if self.groups == 1 else ops.concatenate(outs, axis=-1)
        full = y.shape[1:1 + nd]
        ext = [(0, 0)] + [(0, max(-hi, 0)) for _, hi in self.cut] + [(0, 0)]
        if any(e[1] for e in ext):
            y = ops.pad(y, ext)
        idx = (slice(None),) + tuple(slice(lo, full[i] - hi) for i, (lo, hi) in enumerate(self.cut))
        y = y[idx]
        return y + self.bias if self.use_bias else y

    def compute_output_shape(self, s):
        from ....layers._conv_transpose import full_len

        out = [full_len(s[1 + i], k, self.strides[i], self.dilation[i]) - lo - hi
               for i, (k, (lo, hi)) in enumerate(zip(self.kernel_size, self.cut))]
        return (s[0], *out, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "dilation": list(self.dilation),
                "cut": [list(c) for c in self.cut], "groups": self.groups, "use_bias": self.use_bias}


class _ConvTransposeK(KerasLowering):
    nd = 2

    def _native(self, L, k, s, d, op):
        if L.groups != 1 or any(v != 1 for v in d):
            return None
        if L.padding == "same":
            return "same", None
        if L.padding == "valid":
            return "valid", op
        return None

    def build(self, node, ctx):
        L = node.layer
        k, s, d, op, cut = L.geometry(node.in_shapes[0])
        nat = self._native(L, k, s, d, op)
        if nat is None:
            return XnnConvTranspose(L.filters, k, s, d, cut, L.groups, L.use_bias, name=node.name, dtype=ctx.dtype)
        cls = keras.layers.Conv2DTranspose if self.nd == 2 else keras.layers.Conv1DTranspose
        padding, outpad = nat
        return cls(L.filters, k, strides=s, padding=padding, output_padding=outpad, use_bias=L.use_bias,
                   name=node.name, dtype=ctx.dtype)

    def to_native(self, node, p):
        w = p["weight"]  # (C, F/g, *k) -> (*k, F/g, C)
        kw = np.transpose(w, (*range(2, w.ndim), 1, 0))
        return [kw] + ([p["bias"]] if node.layer.use_bias else [])

    def from_native(self, node, w):
        k = w[0]
        nd = k.ndim - 2
        out = {"weight": np.transpose(k, (nd + 1, nd, *range(nd)))}
        if node.layer.use_bias:
            out["bias"] = w[1]
        return out
