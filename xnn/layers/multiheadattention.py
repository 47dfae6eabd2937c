"""MultiHeadAttention: scaled dot-product attention over ``num_heads`` heads, self or cross.

Inputs (by rank): query ``(Tq, Eq)``; optional key/value ``(Tk, Ekv)`` (default: the query,
self-attention); optional key padding mask ``(Tk,)`` last, 1 = attend (xnn's polarity; each
lowering maps it to its framework's). ``causal: true`` lets query ``i`` see keys ``j <= i``.
Output ``(Tq, output_dim)`` (default ``Eq``).

Canonical params (Dense layout ``(out, in)``; head ``h`` owns rows ``h*d:(h+1)*d``):
``q_weight (H*key_dim, Eq)``, ``k_weight (H*key_dim, Ekv)``, ``v_weight (H*value_dim, Ekv)``,
``out_weight (output_dim, H*value_dim)`` and biases ``q_bias``, ``k_bias``, ``v_bias``,
``out_bias``. Init: PyTorch's MultiheadAttention (Xavier-uniform over the stacked q/k/v
projection, U(±1/sqrt(fan_in)) for the output projection, zero biases).

``y = concat_h(softmax(q_h k_hᵀ / sqrt(key_dim) + mask) v_h) W_outᵀ + b_out``. A query row that
may attend to no key (every key masked) outputs zeros, not NaN. ``dropout`` acts on the
attention weights in training.
"""
from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, PositiveInt

from ..spec.layer import Case, Layer, Param, ShapeError
from ..spec.registry import register

Prob = Annotated[float, Field(ge=0, lt=1)]


def split_inputs(shapes_or_arrays: list, rank_of=len) -> tuple[int, int | None, int | None]:
    """Indices of (query, key/value, mask) among inputs; mask is the one of rank 1 (per sample)."""
    q = 0
    kv = 1 if len(shapes_or_arrays) > 1 and rank_of(shapes_or_arrays[1]) == 2 else None
    last = len(shapes_or_arrays) - 1
    m = last if last > 0 and rank_of(shapes_or_arrays[last]) == 1 else None
    return q, kv, m


def allowed_keys(n: int, tq: int, tk: int, mask: np.ndarray | None, causal: bool) -> np.ndarray | None:
    """Boolean ``(N, 1, Tq, Tk)``: True where a query may attend a key (None: everywhere)."""
    if mask is None and not causal:
        return None
    a = np.ones((n, 1, tq, tk), dtype=bool)
    if mask is not None:
        a &= (mask > 0.5)[:, None, None, :]
    if causal:
        a &= np.tril(np.ones((tq, tk), dtype=bool))[None, None]
    return a


@register
class MultiHeadAttention(Layer):
    kind = "MultiHeadAttention"
    type: Literal["MultiHeadAttention"] = "MultiHeadAttention"
    arity = (1, 3)
    doc_shapes = "q (Tq, Eq) [, kv (Tk, Ekv)] [, mask (Tk,)] -> (Tq, output_dim)"

    num_heads: PositiveInt
    """Attention heads H."""
    key_dim: PositiveInt | None = None
    """Query/key width per head; default: Eq / num_heads."""
    value_dim: PositiveInt | None = None
    """Value width per head; default: key_dim."""
    output_dim: PositiveInt | None = None
    """Output features; default: the query's Eq."""
    use_bias: bool = True
    """Biases on the q, k, v and output projections."""
    causal: bool = False
    """Query i attends only to keys j <= i."""
    dropout: Prob = 0.0
    """Dropout probability on the attention weights, in training."""

    def dims(self, in_shapes) -> tuple[int, int, int]:
        """(key_dim, value_dim, output_dim) per head / of the output."""
        eq = in_shapes[0][-1]
        if self.key_dim is None:
            if eq % self.num_heads:
                raise ShapeError(f"num_heads {self.num_heads} does not divide the query width {eq} "
                                 f"(set key_dim to choose the per-head width)", "num_heads")
            dk = eq // self.num_heads
        else:
            dk = self.key_dim
        return dk, self.value_dim or dk, self.output_dim or eq

    def mask_index(self, in_shapes: list) -> int | None:
        return split_inputs(in_shapes)[2]

    def infer(self, in_shapes):
        qi, kvi, mi = split_inputs(in_shapes)
        if len(in_shapes[0]) != 2:
            raise ShapeError("the query must be a (time, features) sequence per sample", "inputs")
        n_used = 1 + (kvi is not None) + (mi is not None)
        if n_used != len(in_shapes):
            raise ShapeError("inputs are query (T, E), optional key/value (T, E), optional mask (T,) last", "inputs")
        kv = in_shapes[kvi] if kvi is not None else in_shapes[0]
        if mi is not None and tuple(in_shapes[mi]) != (kv[0],):
            raise ShapeError(f"the key padding mask must have shape ({kv[0]},), one value per key step", "inputs")
        _, _, eo = self.dims(in_shapes)
        return (in_shapes[0][0], eo)

    def macs(self, in_shapes, out_shape):
        _, kvi, _ = split_inputs(in_shapes)
        (tq, eq), (tk, ekv) = in_shapes[0], in_shapes[kvi] if kvi is not None else in_shapes[0]
        dk, dv, eo = self.dims(in_shapes)
        h = self.num_heads
        return h * (tq * eq * dk + tk * ekv * (dk + dv) + tq * tk * (dk + dv) + tq * dv * eo)

    def params(self, in_shapes):
        qi, kvi, _ = split_inputs(in_shapes)
        eq = in_shapes[0][-1]
        ekv = in_shapes[kvi][-1] if kvi is not None else eq
        dk, dv, eo = self.dims(in_shapes)
        h = self.num_heads
        # PyTorch: xavier_uniform over the stacked (3E, E) in-projection
        g = {"fan_in": eq, "fan_out": 2 * h * dk + h * dv}
        p = {"q_weight": Param((h * dk, eq), "glorot_uniform", g, "weight"),
             "k_weight": Param((h * dk, ekv), "glorot_uniform", g, "weight"),
             "v_weight": Param((h * dv, ekv), "glorot_uniform", g, "weight"),
             "out_weight": Param((eo, h * dv), "uniform", {"bound": 1.0 / np.sqrt(h * dv)}, "weight")}
        if self.use_bias:
            for k, n in (("q_bias", h * dk), ("k_bias", h * dk), ("v_bias", h * dv), ("out_bias", eo)):
                p[k] = Param((n,), "zeros", {}, "bias")
        return p

    def forward(self, p, xs, training=False):
        qi, kvi, mi = split_inputs(xs, rank_of=lambda a: a.ndim - 1)
        xq = xs[qi]
        xkv = xs[kvi] if kvi is not None else xq
        n, tq, tk = xq.shape[0], xq.shape[1], xkv.shape[1]
        dk, dv, _ = self.dims([xq.shape[1:]])
        h = self.num_heads

        def proj(x, w, b, d):
            y = x @ p[w].T + (p[b] if self.use_bias else 0.0)
            return y.reshape(n, x.shape[1], h, d).transpose(0, 2, 1, 3)  # (N, H, T, d)

        q = proj(xq, "q_weight", "q_bias", dk)
        k, v = proj(xkv, "k_weight", "k_bias", dk), proj(xkv, "v_weight", "v_bias", dv)
        s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dk)
        allowed = allowed_keys(n, tq, tk, xs[mi] if mi is not None else None, self.causal)
        if allowed is not None:
            s = np.where(allowed, s, -np.inf)
            s = np.where(allowed.any(-1, keepdims=True), s, 0.0)  # empty rows: no NaN, zeroed below
        s = s - s.max(axis=-1, keepdims=True)
        w = np.exp(s)
        w = w / w.sum(axis=-1, keepdims=True)
        ctx = (w @ v).transpose(0, 2, 1, 3).reshape(n, tq, h * dv)
        y = ctx @ p["out_weight"].T + (p["out_bias"] if self.use_bias else 0.0)
        if allowed is not None:
            y = y * allowed.any(-1)[:, 0, :, None]
        return y

    @staticmethod
    def case_graph(case: Case, fields: dict) -> tuple[dict, list[dict]]:
        """Multi-input cases: Dense nodes make q (and kv, same length) from one padded input;
        a mask input comes from SequenceMask on that input, so Dense makes padded steps nonzero."""
        shapes = case.in_shapes
        ranks = [len(s) for s in shapes]
        model: list[dict] = []
        ins = []
        t = shapes[0][0]
        model.append({"type": "Dense", "units": shapes[0][-1], "name": "pre0", "inputs": ["input"]})
        ins.append("pre0")
        if len(shapes) > 1 and ranks[1] == 2:
            model.append({"type": "Dense", "units": shapes[1][-1], "name": "pre1", "inputs": ["input"]})
            ins.append("pre1")
        if ranks[-1] == 1:
            model.insert(0, {"type": "SequenceMask", "name": "mask", "inputs": ["input"]})
            ins.append("mask")
        return {"shape": [t, 5]}, model + [{**fields, "inputs": ins}]

    @classmethod
    def cases(cls):
        return [
            Case({"num_heads": 2}, [(5, 4)], "self"),
            Case({"num_heads": 3, "key_dim": 2, "value_dim": 3, "output_dim": 5}, [(4, 6), (4, 3)], "cross_dims"),
            Case({"num_heads": 2, "causal": True, "dropout": 0.1}, [(6, 4)], "causal"),
            Case({"num_heads": 2, "use_bias": False}, [(5, 4), (5,)], "masked_nobias", input_kind="padded"),
            Case({"num_heads": 2, "causal": True}, [(6, 4), (6, 3), (6,)], "cross_causal_masked", input_kind="padded"),
        ]
