"""xnn's own operators, written by :func:`xnn.from_torch` during its export (custom domain ``xnn``;
``xnn.interop.torch.attention.for_importer`` hands each such node to the importer as ``Xnn<Op>`` in
the default domain): ``XnnMultiHeadAttention`` -> MultiHeadAttention.

A file from another tool never holds them; one that does is still checked like any other node
(attributes, input count, constant weights of consistent shapes) and refused with a one-line error
naming the node.
"""
from __future__ import annotations

import numpy as np

from ..registry import handles
from ..state import add_layer, base_of, err, f32, need_const, need_tensor

_ATTRS = ("num_heads", "causal", "dropout")


@handles("XnnMultiHeadAttention", xnn="MultiHeadAttention",
         notes="xnn.from_torch's node for nn.MultiheadAttention (domain xnn): query, key_value (the query for "
               "self-attention), q/k/v/out weights (out, in) [, q/k/v/out biases]; num_heads, causal, dropout")
def _mha(st, node, ins, a):
    extra = sorted(set(a) - set(_ATTRS))
    if extra:
        err(st, node, f"unknown attribute(s) {', '.join(extra)} (XnnMultiHeadAttention has {', '.join(_ATTRS)})")
    heads = a.get("num_heads")
    if not isinstance(heads, int) or isinstance(heads, bool) or heads < 1:
        err(st, node, f"num_heads must be a positive int attribute (received {heads!r:.40})")
    causal = a.get("causal", 0)
    if not isinstance(causal, int) or causal not in (0, 1):
        err(st, node, f"causal must be 0 or 1 (received {causal!r:.40})")
    rate = a.get("dropout", 0.0)
    if not isinstance(rate, float) or not 0.0 <= rate < 1.0:
        err(st, node, f"dropout must be a float attribute in [0, 1) (received {rate!r:.40})")
    if len(ins) not in (6, 10):
        err(st, node, f"takes 6 inputs (query, key_value, q/k/v/out weights) or 10 (and their biases); "
                      f"received {len(ins)}")
    q = need_tensor(st, node, ins[0], "the query")
    kv = need_tensor(st, node, ins[1], "the key/value")
    for what, t in (("query", q), ("key/value", kv)):
        if t.rank != 3 or not t.plain():
            err(st, node, f"the {what} must be a batch-first (N, T, E) sequence of the xnn graph "
                          f"(received a rank-{t.rank} view with axes {list(t.axes)})")
    names = ("q_weight", "k_weight", "v_weight", "out_weight", "q_bias", "k_bias", "v_bias", "out_bias")
    p = {}
    for k, v in zip(names, ins[2:]):
        c = need_const(st, node, v, k)
        if not np.issubdtype(c.dtype, np.floating):
            err(st, node, f"{k} must be floating point (received {c.dtype})")
        p[k] = np.asarray(c, np.float64)
    for k in names[:4]:
        if p[k].ndim != 2 or 0 in p[k].shape:
            err(st, node, f"{k} must be a 2-D (out, in) matrix (received shape {list(p[k].shape)})")
    eq, ekv = q.shape[-1], kv.shape[-1]
    dq, dv, eo = p["q_weight"].shape[0], p["v_weight"].shape[0], p["out_weight"].shape[0]
    want = {"q_weight": (dq, eq), "k_weight": (dq, ekv), "v_weight": (dv, ekv), "out_weight": (eo, dv),
            "q_bias": (dq,), "k_bias": (dq,), "v_bias": (dv,), "out_bias": (eo,)}
    for k, v in p.items():
        if v.shape != want[k]:
            err(st, node, f"{k} of shape {list(v.shape)} does not fit a query of width {eq} and a key/value of "
                          f"width {ekv} (expected {list(want[k])})")
    if dq % heads or dv % heads:
        err(st, node, f"num_heads {heads} does not divide the projection widths ({dq} for q/k, {dv} for v)")
    dk, dvh = dq // heads, dv // heads
    fields = {"num_heads": heads}
    if eq % heads or eq // heads != dk:
        fields["key_dim"] = dk
    if dvh != dk:
        fields["value_dim"] = dvh
    if eo != eq:
        fields["output_dim"] = eo
    fields.update(use_bias=len(ins) == 10, causal=bool(causal), dropout=f32(rate))
    if len(node.output) > 1 and node.output[1] and st.uses.get(node.output[1]):
        err(st, node, "its attention weights (output 1) are used; xnn's MultiHeadAttention outputs the attended "
                      "values only")
    srcs = [base_of(q)] if node.input[0] == node.input[1] else [base_of(q), base_of(kv)]
    return add_layer(st, node, "MultiHeadAttention", fields, srcs, p)

