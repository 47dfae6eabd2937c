"""MultiHeadAttention -> ``keras.layers.MultiHeadAttention`` inside a serializable wrapper that
turns xnn's key padding mask (1 = attend, Keras's polarity too) and ``causal`` into Keras's
``attention_mask``, and zeroes query rows that may attend to no key (Keras would average them).

Weights: ``Kq = Wqᵀ.reshape(Eq, H, dk)``, ``bq.reshape(H, dk)`` (same for k, v) and
``Ko = Woᵀ.reshape(H, dv, Eo)``, ``bo``.
"""
import keras
import numpy as np
from keras import ops

from ....layers.multiheadattention import split_inputs
from ..lowering import KerasLowering


@keras.saving.register_keras_serializable(package="xnn")
class XnnMHA(keras.layers.MultiHeadAttention):
    """Keras's MultiHeadAttention whose score scale is exact in float64 (the fused TF path casts
    the Python-float scale through float32); otherwise Keras's own einsum/softmax/dropout path."""

    def _compute_attention(self, query, key, value, attention_mask=None, training=None,
                           return_attention_scores=False, use_causal_mask=False):
        dt = keras.backend.standardize_dtype(query.dtype)
        query = query * ops.convert_to_tensor(np.asarray(self._inverse_sqrt_key_dim, dtype=dt))
        scores = ops.einsum(self._dot_product_equation, key, query)
        scores = self._masked_softmax(scores, attention_mask)
        dropped = self._dropout_layer(scores, training=training) if self._dropout > 0 else scores
        return ops.einsum(self._combine_equation, dropped, value), scores


@keras.saving.register_keras_serializable(package="xnn")
class XnnAttention(keras.layers.Layer):
    def __init__(self, num_heads: int, key_dim: int, value_dim: int, output_dim: int, use_bias: bool = True,
                 causal: bool = False, dropout: float = 0.0, **kw):
        super().__init__(**kw)
        self.cfg = dict(num_heads=num_heads, key_dim=key_dim, value_dim=value_dim, output_dim=output_dim,
                        use_bias=use_bias, causal=causal, dropout=dropout)
        self.mha = XnnMHA(num_heads, key_dim, value_dim=value_dim, dropout=dropout,
                                                   use_bias=use_bias, output_shape=output_dim,
                                                   dtype=self.dtype_policy, name="mha")

    def call(self, inputs, training=None):
        qi, kvi, mi = split_inputs(inputs, rank_of=lambda a: len(a.shape) - 1)
        q = inputs[qi]
        kv = inputs[kvi] if kvi is not None else q
        if mi is None and not self.cfg["causal"]:
            return self.mha(q, kv, kv, training=training)
        tq, tk = ops.shape(q)[1], ops.shape(kv)[1]
        allowed = ops.ones((1, 1, tk), dtype="bool")
        if mi is not None:
            allowed = ops.greater(inputs[mi], 0.5)[:, None, :]  # (N, 1, Tk)
        if self.cfg["causal"]:
            allowed = ops.logical_and(allowed, ops.tril(ops.ones((tq, tk), dtype="bool"))[None])
        allowed = ops.logical_and(allowed, ops.ones_like(q[:, :, :1], dtype="bool"))  # (N, Tq, Tk)
        rows = ops.any(allowed, axis=-1, keepdims=True)  # (N, Tq, 1)
        allowed = ops.logical_or(allowed, ops.logical_not(rows))
        y = self.mha(q, kv, kv, attention_mask=allowed, training=training)
        return y * ops.cast(rows, y.dtype)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), **self.cfg}


class MultiHeadAttentionK(KerasLowering):
    kind = "MultiHeadAttention"

    def build(self, node, ctx):
        L = node.layer
        dk, dv, eo = L.dims(node.in_shapes)
        return XnnAttention(L.num_heads, dk, dv, eo, L.use_bias, L.causal, L.dropout, name=node.name, dtype=ctx.dtype)

    def apply(self, layer, xs, node, ctx):
        return layer(xs)

    def _dims(self, node):
        L = node.layer
        dk, dv, eo = L.dims(node.in_shapes)
        return L.num_heads, dk, dv, eo

    def to_native(self, node, p):
        h, dk, dv, eo = self._dims(node)
        out = []
        for x, d in (("q", dk), ("k", dk), ("v", dv)):
            w = p[f"{x}_weight"]
            out.append(w.T.reshape(w.shape[1], h, d))
            if node.layer.use_bias:
                out.append(p[f"{x}_bias"].reshape(h, d))
        out.append(p["out_weight"].T.reshape(h, dv, eo))
        if node.layer.use_bias:
            out.append(p["out_bias"])
        return out

    def from_native(self, node, w):
        h, dk, dv, eo = self._dims(node)
        it = iter(w)
        out = {}
        for x, d in (("q", dk), ("k", dk), ("v", dv)):
            k = np.asarray(next(it))
            out[f"{x}_weight"] = k.reshape(k.shape[0], h * d).T
            if node.layer.use_bias:
                out[f"{x}_bias"] = np.asarray(next(it)).reshape(h * d)
        out["out_weight"] = np.asarray(next(it)).reshape(h * dv, eo).T
        if node.layer.use_bias:
            out["out_bias"] = np.asarray(next(it))
        return out
