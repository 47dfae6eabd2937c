"""MultiHeadAttention -> MatMul projections, Reshape/Transpose to heads, ``MatMul`` scores scaled
by 1/sqrt(key_dim), the mask as ``Where(allowed, s, -inf)`` (rows with no allowed key get an
all-true row and are zeroed at the end), ``Softmax(axis=-1)``, ``MatMul`` with V, output MatMul.
Masks use xnn's polarity (true = attend), which ONNX's boolean ``Where`` takes as it is."""
from __future__ import annotations

import numpy as np

from ....layers.multiheadattention import split_inputs
from ..mapping import OnnxMapping
from ._seq import reduce, reshape, unsqueeze


class MultiHeadAttentionX(OnnxMapping):
    kind = "MultiHeadAttention"
    layout = "cl"

    def emit(self, node, g, xs, params, layout):
        L, n = node.layer, node.name
        qi, kvi, mi = split_inputs(list(node.in_shapes))
        xq = xs[qi]
        xkv = xs[kvi] if kvi is not None else xq
        tq = node.in_shapes[qi][0]
        tk = node.in_shapes[kvi][0] if kvi is not None else tq
        dk, dv, _ = L.dims(list(node.in_shapes))
        h = L.num_heads

        def heads(x, which, t, d):
            y = g.op("MatMul", [x, g.init(f"{n}.{which}_weight_t", params[f"{which}_weight"].T)], f"{n}_{which}")
            if L.use_bias:
                y = g.op("Add", [y, g.init(f"{n}.{which}_bias", params[f"{which}_bias"])], f"{n}_{which}_b")
            return g.transpose(reshape(g, y, [0, t, h, d], f"{n}_{which}_heads"), [0, 2, 1, 3], f"{n}_{which}_nhtd")

        q, k, v = heads(xq, "q", tq, dk), heads(xkv, "k", tk, dk), heads(xkv, "v", tk, dv)
        kt = g.transpose(k, [0, 1, 3, 2], f"{n}_kt")
        s = g.op("Mul", [g.op("MatMul", [q, kt], f"{n}_qk"), g.scalar(f"{n}.scale", 1.0 / np.sqrt(dk))], f"{n}_scores")
        rows = None
        if mi is not None or L.causal:
            allowed = None
            if mi is not None:  # (N, Tk) -> (N, 1, 1, Tk)
                allowed = g.op("Greater", [unsqueeze(g, xs[mi], [1, 2], f"{n}_m4"), g.scalar(f"{n}.half", 0.5)],
                               f"{n}_keys")
            if L.causal:
                tril = g.init(f"{n}.causal", np.tril(np.ones((tq, tk), dtype=bool))[None, None], np.bool_)
                allowed = tril if allowed is None else g.op("And", [allowed, tril], f"{n}_causal_and")
            if mi is not None:
                allowed = g.op("And", [allowed, g.init(f"{n}.ones", np.ones((1, 1, tq, tk), dtype=bool), np.bool_)],
                               f"{n}_allowed")  # (N, 1, Tq, Tk)
                af = g.op("Cast", [allowed], f"{n}_allowed_f", to=g.elem_type)
                rows = reduce(g, "ReduceMax", af, [3], f"{n}_rows", keepdims=1)  # (N, 1, Tq, 1)
                empty = g.op("Not", [g.op("Greater", [rows, g.scalar(f"{n}.half2", 0.5)], f"{n}_rows_b")], f"{n}_empty")
                allowed = g.op("Or", [allowed, empty], f"{n}_allowed2")
            s = g.op("Where", [allowed, s, g.scalar(f"{n}.ninf", -np.inf)], f"{n}_masked")
        w = g.op("Softmax", [s], f"{n}_weights", axis=-1)
        ctx = g.transpose(g.op("MatMul", [w, v], f"{n}_ctx"), [0, 2, 1, 3], f"{n}_ctx_nthd")
        ctx = reshape(g, ctx, [0, tq, h * dv], f"{n}_ctx_flat")
        y = g.op("MatMul", [ctx, g.init(f"{n}.out_weight_t", params["out_weight"].T)], f"{n}_out")
        if L.use_bias:
            y = g.op("Add", [y, g.init(f"{n}.out_bias", params["out_bias"])], f"{n}_out_b")
        if rows is not None:  # (N, 1, Tq, 1) -> (N, Tq, 1): a query with no key outputs zeros
            y = g.op("Mul", [y, reshape(g, rows, [0, tq, 1], f"{n}_rows3")], f"{n}_rows_out")
        return y
