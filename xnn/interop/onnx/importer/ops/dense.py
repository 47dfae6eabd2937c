"""Gemm, MatMul (+ a constant Add: the bias) and Add/Sum of tensors -> Dense, Add (a tensor plus a
constant otherwise: ``pointwise.const_affine``)."""
from __future__ import annotations

import re

import numpy as np

from ..registry import handles
from ..state import T, add_layer, base_of, err, f32, keep_view, name_hint, need_const, need_tensor, rename, same_perm


def dense(st, node, x: T, w: np.ndarray, b: np.ndarray | None) -> T:
    if x.perm is not None:  # ONNX feature j is xnn feature perm[j]: move the columns
        w = np.take(w, np.argsort(x.perm), axis=1)
    if x.rank > 2 and not x.plain():
        err(st, node, "a MatMul over the last axis of a channels-first tensor has no xnn equivalent")
    if x.rank == 2 and x.axes != (0, 1):
        err(st, node, "a Gemm over a unit-axis view")
    p = {"weight": w}
    if b is not None:
        p["bias"] = b
    y = add_layer(st, node, "Dense", {"units": int(w.shape[0]), "use_bias": b is not None}, [base_of(x)], p)
    if b is None:
        st.bias_slot[node.output[0]] = len(st.layers) - 1
    return y


@handles("Gemm", xnn="Dense", notes="alpha, beta, transB; C one bias per unit")
def _gemm(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    b = need_const(st, node, ins[1], "B (the weight)")
    c = ins[2] if len(ins) > 2 else None
    if a.get("transA", 0):
        err(st, node, "transA=1 is not supported")
    if x.rank != 2 or b.ndim != 2:
        err(st, node, "Gemm needs a rank-2 input and weight")
    w = (b if a.get("transB", 0) else b.T).astype(np.float64) * f32(a.get("alpha", 1.0))
    bias = None
    if c is not None:
        c = np.asarray(need_const(st, node, c, "C (the bias)"), np.float64)
        units = w.shape[0]
        if c.size not in (1, units) or (c.ndim >= 1 and c.shape[-1] not in (1, units)) or \
                any(v != 1 for v in c.shape[:-1]):
            err(st, node, f"C of shape {list(c.shape)} is not one bias per unit ({units} units); xnn's Dense adds "
                           "the same bias to every sample")
        bias = np.broadcast_to(c.reshape(-1) * float(a.get("beta", 1.0)), (units,)).copy()
    return dense(st, node, x, w, bias)


@handles("MatMul", xnn="Dense", notes="constant 2-D B; a following constant Add becomes the bias")
def _matmul(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    b = need_const(st, node, ins[1], "the second MatMul operand (the weight)")
    if b.ndim != 2:
        err(st, node, "MatMul needs a 2-D constant weight")
    return dense(st, node, x, b.T.astype(np.float64), None)


@handles("Add", "Sum", xnn="Add (a constant: the bias of the Dense/Conv/GroupNorm/BatchNorm/Scale before, or Scale)",
         notes="tensors of one layout; a tensor plus a constant")
def _add_op(st, node, ins, a):
    ts = [v for v in ins if isinstance(v, T)]
    cs = [v for v in ins if isinstance(v, np.ndarray)]
    if len(ts) == 1 and not cs:
        return ts[0]
    if cs:
        if len(ts) != 1 or len(cs) != 1:
            err(st, node, "only a tensor plus one constant (a bias) is supported")
        xname = node.input[[isinstance(v, T) for v in ins].index(True)]
        from .pointwise import const_affine

        return const_affine(st, node, ts[0], xname, b=cs[0])
    x0 = ts[0]
    for t in ts[1:]:
        if t.axes != x0.axes or t.shape != x0.shape or not same_perm(t.perm, x0.perm) or t.pads or x0.pads:
            err(st, node, "inputs are different views (layouts) of xnn tensors")
    return keep_view(add_layer(st, node, "Add", {}, [base_of(t) for t in ts]), x0)


def fold_bias(st, node, x: T, xname: str, c: np.ndarray) -> T:
    """``x + c`` where x comes from a bias-less Dense/Conv used once: c becomes its bias."""
    idx = st.bias_slot.get(xname)
    if idx is None or st.uses.get(xname, 0) != 1:
        err(st, node, "adding a constant is only supported as the bias right after a MatMul or Conv")
    entry = st.layers[idx]
    units = st.shapes[entry["name"]][-1]
    c = np.asarray(c, np.float64)
    if entry["type"] == "Dense":
        if c.size != units or (c.ndim >= 1 and c.shape[-1] != units):
            err(st, node, f"bias of shape {list(c.shape)} does not fit {units} units")
    else:  # Conv on (N, C, *S): the bias broadcasts as (C, 1, ...) or (1, C, 1, ...)
        want = x.rank - 1
        cc = c.reshape(c.shape[-want:]) if c.ndim >= want else c
        if cc.size != units or cc.shape[0] != units:
            err(st, node, f"bias of shape {list(c.shape)} is not per channel")
    entry["use_bias"] = True
    st.params[f"{entry['name']}.bias"] = c.reshape(-1).copy()
    del st.bias_slot[xname]
    if re.search(r"(_matmul|MatMul|Conv)", entry["name"]):  # name the layer after the Add (xnn's own export)
        x = T(rename(st, idx, name_hint(node)), x.shape, x.axes, x.perm)
    return x
