"""Mul and Sub of tensors -> Multiply, Subtract (NumPy broadcasting of xnn's per-sample shapes);
Mul, Add, Sub and Div of a tensor and a constant -> the affine map ``x * w + b`` (:func:`const_affine`):
folded into the layer before where it can (a Dense/Conv bias, a GroupNorm/BatchNorm/Scale), else
a Scale layer.

ONNX broadcasts whole tensors, batch axis included; xnn broadcasts per-sample shapes, a shorter
one getting unit axes after the batch axis. A product of views maps to xnn when every input's
real axes of size > 1 land, in ONNX, where xnn's right-aligned broadcasting puts them: e.g.
``(N, C, H, W) * Unsqueeze((N, C), [2, 3])`` of a channels-first image and a channel vector is
xnn's ``(H, W, C) * (C,)``. ``Mul`` of a product by one more input (a chain) extends that
Multiply. ``x * Sigmoid(x)`` (silu) and ``x * HardSigmoid(x)`` (hard_swish) are handled first
(``activation.py``).

A constant ``c`` broadcasts against a view ``x`` as one xnn parameter when it is constant along the
batch axis and never makes ``x`` larger: its axes are moved to xnn's order (a channels-first
``(1, C, 1, 1)`` is the per-channel ``(C,)``, a ``(1, 1, H, W)`` the per-position ``(H, W, 1)``).
``x - c`` is ``x + (-c)`` and ``c - x`` is ``x * -1 + c`` (both exact); ``x / c`` is ``x * (1/c)``
(the reciprocal rounds: within one unit in the last place of ``x / c``).
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


def _tensor_and_const(st, node, ins) -> tuple[T, str, np.ndarray, int]:
    """(the tensor, its ONNX name, the constant, the tensor's input index) of a binary op."""
    ti = [i for i, v in enumerate(ins) if isinstance(v, T)]
    ci = [i for i, v in enumerate(ins) if isinstance(v, np.ndarray)]
    if len(ti) != 1 or len(ci) != 1 or len(ins) != 2:
        err(st, node, f"{node.op_type} of {len(ti)} tensors and {len(ci)} constants; xnn imports a tensor and "
                       "one constant, or tensors only")
    return ins[ti[0]], node.input[ti[0]], ins[ci[0]], ti[0]


def xnn_constant(x: T, c) -> np.ndarray | None:
    """The constant ``c`` (ONNX broadcasting against view ``x``) as an xnn per-sample parameter
    (leading unit axes dropped, at least one axis); None when it varies along the batch axis, would
    broadcast ``x`` to a larger shape, or is not one value per feature of a permuted vector."""
    c = np.asarray(c, np.float64)
    r = x.rank
    if c.ndim > r:
        return None
    c = c.reshape((1,) * (r - c.ndim) + c.shape)
    shape = x.onnx_shape()
    if c.shape[0] != 1 or any(d not in (1, shape[j]) for j, d in enumerate(c.shape[1:], 1)):
        return None
    keep = [j for j in range(1, r) if x.axes[j] is not None]
    v = c[0].reshape([c.shape[j] for j in keep])  # the unit axes x does not have are 1 in c too
    order = [x.axes[j] for j in keep]
    v = v.transpose(np.argsort(order))  # axis i of v: xnn axis i + 1
    if x.perm is not None:  # a flattened channels-first vector: ONNX feature j is xnn feature perm[j]
        if v.size == 1:
            v = v.reshape(1)
        else:
            vx = np.empty_like(v.reshape(-1))
            vx[x.perm] = v.reshape(-1)
            v = vx
    while v.ndim > 1 and v.shape[0] == 1:
        v = v[0]
    return v.reshape(1) if v.ndim == 0 else v


def const_affine(st, node, x: T, xname: str, w=None, b=None) -> T:
    """``x * w + b`` for ONNX constants ``w``/``b`` (either None): the bias of a bias-less Dense/Conv
    right before, folded into a GroupNorm/BatchNorm/Scale right before, or a new Scale layer."""
    from .dense import fold_bias
    from .norm import fold_affine

    if x.int_input:
        err(st, node, "arithmetic on the integer input (indices) has no xnn layer")
    if w is None and b is not None and st.bias_slot.get(xname) is not None and st.uses.get(xname, 0) == 1:
        from .....errors import FormatError

        try:
            return fold_bias(st, node, x, xname, b)
        except FormatError:
            pass  # not one bias per unit/channel (checked before anything changed): a Scale below
    y = fold_affine(st, node, x, xname, w, b)
    if y is not None:
        return y
    pw = None if w is None else xnn_constant(x, w)
    pb = None if b is None else xnn_constant(x, b)
    for c, p in ((w, pw), (b, pb)):
        if c is not None and p is None:
            err(st, node, f"the constant of shape {list(np.shape(c))} varies along the batch axis or would enlarge "
                           f"the tensor (ONNX shape {[int(v) if v > 0 else 'N' for v in x.onnx_shape()]}); xnn's "
                           "Scale holds one value per sample position")
    from .....layers._pointwise import broadcast

    shape = tuple(broadcast([p.shape for p in (pw, pb) if p is not None]))
    weight = np.broadcast_to(np.ones(1) if pw is None else pw, shape).copy()
    params = {"weight": weight}
    fields: dict = {}
    if pb is not None:
        params["bias"] = np.broadcast_to(pb, shape).copy()
    else:
        fields["use_bias"] = False
    if shape != (x.shape[-1],):
        fields = {"shape": [int(d) for d in shape], **fields}
    y = add_layer(st, node, "Scale", fields, [base_of(x)], params)
    return T(y.node, y.shape, x.axes, x.perm)


def product(st, node, ins) -> T:
    """``Mul``: of tensors a Multiply; of a tensor and a constant the scale ``x * c``."""
    if any(isinstance(v, np.ndarray) for v in ins):
        x, xname, c, _ = _tensor_and_const(st, node, ins)
        return const_affine(st, node, x, xname, w=c)
    return combine(st, node, ins, "Multiply")


@handles("Sub", xnn="Subtract (a constant: the bias of the layer before, or Scale)",
         notes="two tensors: NumPy broadcasting that is xnn's per-sample broadcasting; x - c, c - x")
def _sub(st, node, ins, a):
    if any(isinstance(v, np.ndarray) for v in ins):
        x, xname, c, i = _tensor_and_const(st, node, ins)
        c = np.asarray(c, np.float64)
        return const_affine(st, node, x, xname, b=-c) if i == 0 else const_affine(st, node, x, xname, w=-np.ones(1), b=c)
    return combine(st, node, ins, "Subtract")


@handles("Div", xnn="Scale (or the scale of the GroupNorm/BatchNorm/Scale before)",
         notes="a tensor divided by a non-zero constant, as x * (1/c)")
def _div(st, node, ins, a):
    if not any(isinstance(v, np.ndarray) for v in ins):
        err(st, node, "dividing by a tensor has no xnn layer (only a tensor divided by a constant: Scale)")
    x, xname, c, i = _tensor_and_const(st, node, ins)
    if i != 0:
        err(st, node, "a constant divided by a tensor (a reciprocal) has no xnn layer")
    c = np.asarray(c, np.float64)
    if not np.all(np.isfinite(c)) or np.any(c == 0):
        err(st, node, "the divisor holds zeros or non-finite values")
    return const_affine(st, node, x, xname, w=1.0 / c)
