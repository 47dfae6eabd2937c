"""BatchNormalization, LayerNormalization -> BatchNorm, LayerNorm; InstanceNormalization,
GroupNormalization (and xnn's channels-last Reshape/Transpose/InstanceNormalization decomposition)
-> GroupNorm; LRN. A following constant Mul / Add (a BatchNorm written as BatchNormalization, Mul,
Add) folds into the weight / bias of the GroupNorm, BatchNorm or Scale before it (:func:`fold_affine`)."""
from __future__ import annotations

import numpy as np

from ..registry import handles
from ..state import T, add_layer, base_of, err, f32, need_cf, need_const, need_tensor


@handles("BatchNormalization", xnn="BatchNorm", cf=True, notes="momentum = 1 - ONNX momentum")
def _batchnorm(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    if int(a.get("spatial", 1)) != 1:
        err(st, node, "spatial=0 (per-activation statistics) has no xnn equivalent")
    if int(a.get("training_mode", 0)):
        err(st, node, "training_mode=1 cannot be imported")
    if x.rank >= 3:
        need_cf(st, node, x)
    elif x.axes != (0, 1):
        err(st, node, "BatchNormalization over a unit-axis view")
    names = ("weight", "bias", "running_mean", "running_var")
    p = {k: np.asarray(need_const(st, node, v, k), np.float64).reshape(-1) for k, v in zip(names, ins[1:5])}
    if x.perm is not None:
        for k in names:
            v = np.empty_like(p[k])
            v[x.perm] = p[k]
            p[k] = v
    mom = min(max(1.0 - f32(a.get("momentum", 0.9)), 0.0), 1.0)
    y = add_layer(st, node, "BatchNorm", {"eps": f32(a.get("epsilon", 1e-5)), "momentum": mom}, [base_of(x)], p)
    return T(y.node, y.shape, x.axes, x.perm)


@handles("LayerNormalization", since=17, xnn="LayerNorm", notes="axis=-1")
def _layernorm(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    if int(a.get("axis", -1)) % x.rank != x.rank - 1:
        err(st, node, "only normalization over the last axis maps to xnn's LayerNorm")
    if x.rank > 2 and not x.plain():
        err(st, node, "LayerNormalization over a channels-first view")
    f = x.shape[-1]
    w = np.asarray(need_const(st, node, ins[1], "scale"), np.float64).reshape(-1)
    b = np.zeros(f) if len(ins) < 3 or ins[2] is None else np.asarray(need_const(st, node, ins[2], "B"), np.float64).reshape(-1)
    w, b = np.broadcast_to(w, (f,)).copy(), np.broadcast_to(b, (f,)).copy()
    if x.perm is not None:
        wx, bx = np.empty_like(w), np.empty_like(b)
        wx[x.perm], bx[x.perm] = w, b
        w, b = wx, bx
    y = add_layer(st, node, "LayerNorm", {"eps": f32(a.get("epsilon", 1e-5))}, [base_of(x)], {"weight": w, "bias": b})
    return T(y.node, y.shape, x.axes, x.perm)


# ------------------------------------------------------------------ GroupNorm / InstanceNorm
def _trivial(w: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(w == 1.0) and np.all(b == 0.0))


def _per_channel_view(st, node, x: T, what: str) -> None:
    """``x`` must hold the xnn channel axis at ONNX axis 1 and the spatial axes after it (in any order)."""
    c_ax = len(x.shape)
    rest = sorted(a for a in x.axes[2:] if a is not None)
    if x.rank < 3 or x.axes[0] != 0 or x.axes[1] != c_ax or rest != list(range(1, c_ax)) or x.split or x.pads:
        err(st, node, f"{what} needs a channels-first tensor (N, C, *spatial) of the xnn graph (received a view "
                       f"with axes {list(x.axes)})")


def _group_norm(st, node, x: T, groups: int, eps: float, w: np.ndarray, b: np.ndarray) -> T:
    """A GroupNorm reading the xnn tensor ``x`` views; per-channel ``w``/``b`` in ONNX channel order."""
    c = x.shape[-1]
    w = np.broadcast_to(np.asarray(w, np.float64).reshape(-1), (c,)).copy()
    b = np.broadcast_to(np.asarray(b, np.float64).reshape(-1), (c,)).copy()
    if x.perm is not None:
        wx, bx = np.empty_like(w), np.empty_like(b)
        wx[x.perm], bx[x.perm] = w, b
        w, b = wx, bx
    affine = not _trivial(w, b)
    return add_layer(st, node, "GroupNorm", {"groups": int(groups), "eps": f32(eps), "affine": affine},
                     [base_of(x)], {"weight": w, "bias": b} if affine else None)


def _sole_chain(st, name: str) -> bool:
    """Every ONNX tensor that views xnn node ``name`` is read at most once (a linear chain)."""
    return all(st.uses.get(k, 0) <= 1 for k, v in st.tens.items() if isinstance(v, T) and v.node == name)


def _grouped_reshape(st, x: T):
    """``x`` = Transpose(Reshape(t, (N, *S, G, C/G)), (0, G, *S, C/G)) of xnn tensor ``t`` (the
    channels-last GroupNorm decomposition xnn writes below opset 21): (t's name, t's shape, G), else None."""
    if not st.layers or st.layers[-1]["name"] != x.node or st.layers[-1]["type"] != "Reshape":
        return None
    entry = st.layers[-1]
    src = (entry.get("inputs") or [st.layers[-2]["name"] if len(st.layers) > 1 else "input"])[0]
    s = tuple(st.shapes[src])
    k = len(s) - 1
    if len(x.shape) != k + 2 or tuple(x.shape[:k]) != s[:-1] or x.shape[k] * x.shape[k + 1] != s[-1]:
        return None
    if x.axes != (0, k + 1, *range(1, k + 1), k + 2) or x.perm is not None or x.split or x.pads:
        return None
    if not _sole_chain(st, x.node):
        return None
    return src, s, int(x.shape[k])


@handles("InstanceNormalization", xnn="GroupNorm (one group per channel; or groups G in xnn's decomposition)",
         cf=True, notes="scale/B 1/0: affine false; a following constant Mul/Add is the weight/bias")
def _instance_norm(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    scale = np.asarray(need_const(st, node, ins[1], "scale"), np.float64).reshape(-1)
    bias = np.asarray(need_const(st, node, ins[2], "B"), np.float64).reshape(-1)
    eps = a.get("epsilon", 1e-5)
    grouped = _grouped_reshape(st, x)
    if grouped is not None:  # per sample and group over (*S, C/G): xnn's GroupNorm with G groups
        src, s, g = grouped
        old = st.layers.pop()["name"]
        st.shapes.pop(old)
        st.names.discard(old)
        cg = s[-1] // g
        y = _group_norm(st, node, T(src, s, tuple(range(len(s) + 1))), g, eps, np.repeat(scale, cg),
                        np.repeat(bias, cg))
        # seen as (N, G, *S, C/G) until the Transpose and Reshape back merge the split channel axis
        return T(y.node, tuple(x.shape), x.axes, split=(g, cg))
    _per_channel_view(st, node, x, "InstanceNormalization")
    y = _group_norm(st, node, x, x.shape[-1], eps, scale, bias)
    return T(y.node, y.shape, x.axes, x.perm)


@handles("GroupNormalization", since=21, xnn="GroupNorm", cf=True,
         notes="scale, bias per channel (GroupNormalization-18's per-group form is deprecated: onnx's checker "
               "refuses it when the file is read)")
def _group_normalization(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    _per_channel_view(st, node, x, "GroupNormalization")
    g = int(a.get("num_groups", 0))
    c = x.shape[-1]
    if g <= 0 or c % g:
        err(st, node, f"num_groups={g} does not divide the {c} channels")
    scale = np.asarray(need_const(st, node, ins[1], "scale"), np.float64).reshape(-1)
    bias = np.asarray(need_const(st, node, ins[2], "bias"), np.float64).reshape(-1)
    y = _group_norm(st, node, x, g, a.get("epsilon", 1e-5), scale, bias)
    return T(y.node, y.shape, x.axes, x.perm)


_AFFINE_KINDS = ("GroupNorm", "BatchNorm", "Scale")  # layers a following constant Mul/Add folds into


def _foldable(st, x: T, xname: str) -> dict | None:
    """The GroupNorm/BatchNorm/Scale layer ``x`` views when it is the last layer and nothing but
    this node reads it (``xname`` once, through one chain of views)."""
    if not st.layers or st.layers[-1]["name"] != x.node or st.layers[-1]["type"] not in _AFFINE_KINDS:
        return None
    if x.split or x.pads or not _sole_chain(st, x.node) or st.uses.get(xname, 0) != 1:
        return None
    return st.layers[-1]


def _channel_vector(x: T, c: np.ndarray | None) -> np.ndarray | None:
    """A constant that broadcasts as one value per channel of view ``x`` -> (C,) in xnn order;
    None when it is not one (or ``c`` is None)."""
    if c is None:
        return None
    c = np.asarray(c, np.float64)
    ch = len(x.shape)
    if c.ndim > x.rank or any(d != 1 and a != ch for d, a in zip(c.shape, x.axes[x.rank - c.ndim:])):
        return None
    v = c.reshape(-1)
    if v.size not in (1, x.shape[-1]):
        return None
    v = np.broadcast_to(v, (x.shape[-1],)).copy() if v.size == 1 else v.copy()
    if x.perm is not None:
        vx = np.empty_like(v)
        vx[x.perm] = v
        v = vx
    return v


def fold_affine(st, node, x: T, xname: str, w, b) -> T | None:
    """``x * w + b`` (ONNX constants, either may be None) folded into the GroupNorm, BatchNorm or
    Scale layer right before (exact: ``(n·g + h)·w + b = n·(g·w) + (h·w + b)``); None when there is
    no such layer or the constants do not fit its parameters."""
    entry = _foldable(st, x, xname)
    if entry is None:
        return None
    n = entry["name"]
    if entry["type"] == "Scale":
        from .pointwise import xnn_constant

        pw = None if w is None else xnn_constant(x, w)
        pb = None if b is None else xnn_constant(x, b)
        if (w is not None and pw is None) or (b is not None and pb is None):
            return None
        return _fold_into_scale(st, node, entry, x, pw, pb)
    vw, vb = _channel_vector(x, w), _channel_vector(x, b)
    if (w is not None and vw is None) or (b is not None and vb is None):
        return None
    c = x.shape[-1]
    vw = np.ones(c) if vw is None else vw
    vb = np.zeros(c) if vb is None else vb
    if entry["type"] == "GroupNorm" and not entry.get("affine", True):
        entry["affine"] = True
        st.params[f"{n}.weight"], st.params[f"{n}.bias"] = vw, vb
    else:
        st.params[f"{n}.weight"] = st.params[f"{n}.weight"] * vw
        st.params[f"{n}.bias"] = st.params[f"{n}.bias"] * vw + vb
    if b is not None and n.endswith("_normed"):  # xnn's own GroupNorm export: name the layer after the Add
        from ..state import name_hint, rename

        n = rename(st, len(st.layers) - 1, name_hint(node))
    return T(n, x.shape, x.axes, x.perm)


def _fold_into_scale(st, node, entry: dict, x: T, pw, pb) -> T:
    from .....layers._pointwise import broadcast

    n = entry["name"]
    w0 = st.params[f"{n}.weight"]
    b0 = st.params.get(f"{n}.bias")
    shape = tuple(broadcast([w0.shape] + [p.shape for p in (pw, pb) if p is not None]))
    w1 = np.broadcast_to(w0 * (1.0 if pw is None else pw), shape).copy()
    b1 = None if b0 is None and pb is None else np.broadcast_to(
        (0.0 if b0 is None else b0) * (1.0 if pw is None else pw) + (0.0 if pb is None else pb), shape).copy()
    st.params[f"{n}.weight"] = w1
    if b1 is not None:
        st.params[f"{n}.bias"] = b1
        entry["use_bias"] = True
    entry["shape"] = None if shape == (st.shapes[n][-1],) else [int(d) for d in shape]
    if entry["shape"] is None:
        entry.pop("shape")
    if pb is not None and n.endswith("_scaled"):  # xnn's own Scale export: name the layer after the Add
        from ..state import name_hint, rename

        n = rename(st, len(st.layers) - 1, name_hint(node))
    return T(n, x.shape, x.axes, x.perm)


@handles("LRN", xnn="LRN", cf=True, notes="odd size (ONNX Runtime refuses even ones); alpha, beta, bias kept")
def _lrn(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    _per_channel_view(st, node, x, "LRN")
    size = int(a.get("size", 0))
    if size <= 0 or size % 2 == 0:
        err(st, node, f"LRN size {size}: xnn's LRN takes odd sizes (an even window is asymmetric, and frameworks "
                       "disagree on which side gets the extra channel)")
    fields = {"size": size, "alpha": f32(a.get("alpha", 1e-4)), "beta": f32(a.get("beta", 0.75)),
              "bias": f32(a.get("bias", 1.0))}
    y = add_layer(st, node, "LRN", fields, [base_of(x)])
    return T(y.node, y.shape, x.axes, x.perm)
