"""Mul and Sub of tensors -> Multiply, Subtract (NumPy broadcasting of xnn's per-sample shapes).

ONNX broadcasts whole tensors, batch axis included; xnn broadcasts per-sample shapes, a shorter
one getting unit axes after the batch axis. A product of views maps to xnn when every input's
real axes of size > 1 land, in ONNX, where xnn's right-aligned broadcasting puts them: e.g.
``(N, C, H, W) * Unsqueeze((N, C), [2, 3])`` of a channels-first image and a channel vector is
xnn's ``(H, W, C) * (C,)``. ``Mul`` of a product by one more input (a chain) extends that
Multiply. ``x * Sigmoid(x)`` (silu) and ``x * HardSigmoid(x)`` (hard_swish) are handled first
(``activation.py``); ``x * constant`` only as the scale right after a GroupNorm (``norm.py``).
"""
from __future__ import annotations

import numpy as np

from ..registry import handles
from ..state import T, add_layer, base_of, err, name_hint, need_tensor, rename, same_perm


def _views(st, node, ins, op: str) -> tuple[list[T], tuple, np.ndarray | None]:
    """The inputs as views that broadcast the xnn way; (views, the output's axes, its perm)."""
    ts = [need_tensor(st, node, v) for v in ins]
    rank = ts[0].rank
    for t in ts:
        if t.rank != rank or t.axes[0] != 0:
            err(st, node, f"{op} of tensors of ONNX ranks {[u.rank for u in ts]}: xnn broadcasts per-sample shapes, "
                           "so every input needs the batch axis first and one rank")
        if t.pads:
            err(st, node, "a Pad is only supported right before a Conv")
    perm = ts[0].perm
    if any(t.perm is not None for t in ts):
        if not all(same_perm(t.perm, perm) and t.shape == ts[0].shape and t.axes == ts[0].axes for t in ts):
            err(st, node, f"{op} of permuted feature vectors (a Flatten of a channels-first tensor) that are not "
                           "the same view")
    main = max(ts, key=lambda t: (len(t.shape), -sum(a is None for a in t.axes)))
    out_axes, top = main.axes, len(main.shape)
    for i, t in enumerate(ts):
        k = len(t.shape)
        for j, a in enumerate(t.axes[1:], 1):
            if a is None or t.shape[a - 1] == 1:
                continue
            if out_axes[j] != top - k + a:
                err(st, node, f"{op}: input {i} (ONNX shape {[int(v) if v > 0 else 'N' for v in t.onnx_shape()]}) "
                               "broadcasts along ONNX axes that xnn's per-sample broadcasting (shapes aligned at "
                               "the last channels-last axis) does not line up")
    return ts, out_axes, perm


def _chain(st, node, ts: list[T], kind: str) -> int | None:
    """Index of a Multiply layer that is the last layer and read by this node only (a Mul chain)."""
    if kind != "Multiply" or not st.layers or st.layers[-1]["type"] != "Multiply":
        return None
    last = st.layers[-1]["name"]
    mine = [i for i, t in enumerate(ts) if t.node == last]
    if len(mine) != 1 or st.uses.get(node.input[mine[0]]) != 1:
        return None
    return len(st.layers) - 1


def combine(st, node, ins, kind: str) -> T:
    """``Mul``/``Sub`` of views -> a Multiply/Subtract layer (or one more input of a Multiply chain)."""
    op = node.op_type
    ts, out_axes, perm = _views(st, node, ins, op)
    idx = _chain(st, node, ts, kind)
    if idx is not None:
        from .....spec.layer import ShapeError
        from .....layers._pointwise import broadcast

        entry = st.layers[idx]
        ins_now = list(entry["inputs"]) + [t.node for t in ts if t.node != entry["name"]]
        try:
            shape = broadcast([st.shapes[n] for n in ins_now])
        except ShapeError as e:
            err(st, node, f"becomes an xnn Multiply that cannot take its input: {e}")
        entry["inputs"] = ins_now
        st.shapes[entry["name"]] = shape
        name = rename(st, idx, name_hint(node))
        return T(name, shape, out_axes, perm)
    y = add_layer(st, node, kind, {}, [base_of(t) for t in ts])
    return T(y.node, y.shape, out_axes, perm)


def product(st, node, ins) -> T:
    """``Mul``: of tensors a Multiply; a tensor times a constant: the scale of a GroupNorm before."""
    consts = [v for v in ins if isinstance(v, np.ndarray)]
    if consts:
        from .norm import fold_scale

        ts = [(v, node.input[i]) for i, v in enumerate(ins) if isinstance(v, T)]
        if len(ts) != 1 or len(consts) != 1:
            err(st, node, "a product of constants and tensors other than tensor * constant")
        return fold_scale(st, node, ts[0][0], ts[0][1], consts[0])
    return combine(st, node, ins, "Multiply")


@handles("Sub", xnn="Subtract", notes="two tensors; NumPy broadcasting that is xnn's per-sample broadcasting")
def _sub(st, node, ins, a):
    if any(isinstance(v, np.ndarray) for v in ins):
        err(st, node, "subtracting a constant has no xnn layer (only a tensor minus a tensor: Subtract)")
    return combine(st, node, ins, "Subtract")
