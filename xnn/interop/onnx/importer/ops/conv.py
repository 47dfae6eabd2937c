"""Conv (+ a zero Pad before it), ConvTranspose, MaxPool/AveragePool, GlobalAveragePool/GlobalMaxPool,
ReduceMean/ReduceMax over the spatial axes -> Conv1D/2D, ConvTranspose1D/2D, pools,
GlobalAvgPool1D/2D, GlobalMaxPool1D/2D."""
from __future__ import annotations

import numpy as np

from ..registry import handles
from ..state import T, add_layer, base_of, err, fresh, name_hint, need_cf, need_const, need_tensor


def padding_kind(spatial, k, s, d, pads_lo_hi):
    """``"valid"``, ``"same"`` (TF rule), a symmetric per-axis list, or None (asymmetric, not 'same')."""
    from .....layers import _conv

    if all(lo == 0 and hi == 0 for lo, hi in pads_lo_hi):
        return "valid"
    same = [_conv.same_pads(spatial[i], k[i], s[i], d[i]) for i in range(len(k))]
    if list(map(tuple, pads_lo_hi)) == same:
        return "same"
    if all(lo == hi for lo, hi in pads_lo_hi):
        return [int(lo) for lo, _ in pads_lo_hi]
    return None


def pads_to_padding(st, node, spatial, k, s, d, pads_lo_hi, allow_explicit: bool):
    padding = padding_kind(spatial, k, s, d, pads_lo_hi)
    if padding is None or (isinstance(padding, list) and not allow_explicit):
        err(st, node, f"pads {[list(p) for p in pads_lo_hi]} are asymmetric and not TF-style 'same' for this input; "
                       "xnn cannot express them")
    return padding


def geometry(st, node, a, x: T, k):
    nd = len(k)
    spatial = x.shape[:nd]
    s = list(a.get("strides", [1] * nd))
    d = list(a.get("dilations", [1] * nd))
    ap = a.get("auto_pad", b"NOTSET")
    ap = ap.decode() if isinstance(ap, bytes) else ap
    from .....layers import _conv

    if ap in ("SAME_UPPER", "SAME_LOWER"):
        pads = [_conv.same_pads(spatial[i], k[i], s[i], d[i]) for i in range(nd)]
        if ap == "SAME_LOWER":
            pads = [(hi, lo) for lo, hi in pads]
    elif ap == "VALID":
        pads = [(0, 0)] * nd
    else:
        p = list(a.get("pads", [0] * (2 * nd)))
        pads = [(p[i], p[i + nd]) for i in range(nd)]
    return spatial, s, d, pads


@handles("Conv", xnn="Conv1D/Conv2D", cf=True, notes="pads valid, symmetric, TF 'same'; auto_pad; after a zero Pad")
def _conv(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    pre = x.pads
    if pre is not None:
        x = T(x.node, x.shape, x.axes, x.perm)
    need_cf(st, node, x)
    w = need_const(st, node, ins[1], "W")
    b = ins[2] if len(ins) > 2 else None
    nd = w.ndim - 2
    if nd not in (1, 2):
        err(st, node, f"{nd}-D convolution is not an xnn layer")
    k = list(a.get("kernel_shape", w.shape[2:]))
    spatial, s, d, pads = geometry(st, node, a, x, k)
    if pre is not None:
        pads = [(lo + plo, hi + phi) for (lo, hi), (plo, phi) in zip(pads, pre)]
    padding = pads_to_padding(st, node, spatial, k, s, d, pads, True)
    fields = {"filters": int(w.shape[0]), "kernel_size": k, "strides": s, "padding": padding, "dilation": d,
              "groups": int(a.get("group", 1)), "use_bias": b is not None}
    p = {"weight": w}
    if b is not None:
        p["bias"] = need_const(st, node, b, "B")
    y = add_layer(st, node, f"Conv{nd}D", fields, [base_of(x)], p)
    if b is None:
        st.bias_slot[node.output[0]] = len(st.layers) - 1
    return T(y.node, y.shape, x.axes)


@handles("Pad", xnn="(padding of the next Conv)", notes="pads as attributes")
def _pad7(st, node, ins, a):
    return _pad(st, node, ins, a)


@handles("Pad", since=11, xnn="(padding of the next Conv)", notes="pads as an input")
def _pad(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    mode = a.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if st.opset >= 11:
        p = need_const(st, node, ins[1], "pads").astype(int).tolist()
        val = ins[2] if len(ins) > 2 else None
        val = 0.0 if val is None else float(np.asarray(need_const(st, node, val, "constant_value")).reshape(()))
        if len(ins) > 3 and ins[3] is not None:
            err(st, node, "Pad with axes is not supported")
    else:
        p, val = list(a.get("pads", [])), float(a.get("value", 0.0))
    r = x.rank
    if mode != "constant" or val != 0.0 or len(p) != 2 * r:
        err(st, node, "only zero constant padding (before a Conv) is supported")
    if p[0] or p[1] or p[r] or p[r + 1] or any(v < 0 for v in p):
        err(st, node, "padding the batch or channel axis is not supported")
    return T(x.node, x.shape, x.axes, x.perm, pads=[(p[i], p[i + r]) for i in range(2, r)])


def _pool(kind: str):
    def h(st, node, ins, a):
        x = need_tensor(st, node, ins[0])
        need_cf(st, node, x)
        k = list(a["kernel_shape"])
        nd = len(k)
        if nd not in (1, 2):
            err(st, node, f"{nd}-D pooling is not an xnn layer")
        spatial, s, d, pads = geometry(st, node, a, x, k)
        if any(v != 1 for v in d):
            err(st, node, "dilated pooling is not an xnn layer")
        padding = pads_to_padding(st, node, spatial, k, s, d, pads, True)
        include = int(a.get("count_include_pad", 0))
        src = base_of(x)
        if kind == "AvgPool" and include and padding == "same" and all(lo == hi for lo, hi in pads):
            padding = [int(lo) for lo, _ in pads]  # counted zeros: zero padding then a 'valid' pool
        if isinstance(padding, list):  # symmetric explicit pads: zero padding, then a 'valid' pool
            if kind == "AvgPool" and not include:
                err(st, node, f"pads {padding} with count_include_pad=0: xnn's pools pad only 'same' (TF rule), "
                               "and zero padding would count the padded cells")
            if kind == "MaxPool" and src.node not in st.nonneg:
                err(st, node, f"explicit pads {padding}: xnn's pools pad only 'same' (TF rule); zero padding is "
                               "exact only for inputs known to be >= 0 (after a ReLU), which this one is not")
            src = zero_pad(st, node, src, padding)
            padding = "valid"
        elif kind == "AvgPool" and padding != "valid" and include:
            err(st, node, "count_include_pad=1 with 'same' padding: xnn's average pooling excludes padded cells")
        y = add_layer(st, node, f"{kind}{nd}D", {"pool_size": k, "strides": s, "padding": padding}, [src])
        if int(a.get("ceil_mode", 0)):
            want = [-(-(spatial[i] + pads[i][0] + pads[i][1] - k[i]) // s[i]) + 1 for i in range(nd)]
            if list(y.shape[:nd]) != want:
                err(st, node, "ceil_mode=1 changes the output size here; xnn pools round down")
        return T(y.node, y.shape, x.axes)
    return h


def zero_pad(st, node, x: T, padding: list[int]) -> T:
    """Zero padding of an xnn tensor as a depthwise 1x1 Conv of ones with symmetric ``padding``
    (exact: each value times 1.0). xnn's pools have no explicit padding of their own."""
    c = x.shape[-1]
    nd = len(padding)
    fields = {"filters": c, "kernel_size": [1] * nd, "strides": [1] * nd, "padding": padding,
              "dilation": [1] * nd, "groups": c, "use_bias": False}
    y = add_layer(st, node, f"Conv{nd}D", fields, [x], {"weight": np.ones((c, 1, *([1] * nd)))},
             name=fresh(st, name_hint(node) + "_pad"))
    if x.node in st.nonneg:
        st.nonneg.add(y.node)
    return y


def _global(kind: str):
    def h(st, node, ins, a):
        x = need_tensor(st, node, ins[0])
        need_cf(st, node, x)
        nd = x.rank - 2
        if nd not in (1, 2):
            err(st, node, f"{nd}-D global pooling is not an xnn layer")
        y = add_layer(st, node, f"{kind}{nd}D", {}, [base_of(x)])
        return T(y.node, y.shape, (0, 1, *([None] * nd)))  # ONNX keeps (N, C, 1, ...)
    return h


def _reduce(kind: str, what: str):
    def h(st, node, ins, a):
        x = need_tensor(st, node, ins[0])
        axes = a.get("axes")
        if len(ins) > 1 and ins[1] is not None:
            axes = need_const(st, node, ins[1], "axes").astype(int).tolist()
        if axes is None:
            err(st, node, f"{node.op_type} over every axis")
        r = x.rank
        axes = sorted(int(v) % r for v in axes)
        nd = len(x.shape) - 1
        if sorted(x.axes[i] for i in axes) != list(range(1, nd + 1)) or nd not in (1, 2) or x.perm is not None:
            err(st, node, f"only a {what} over every spatial axis (global {what} pooling) is supported")
        y = add_layer(st, node, f"{kind}{nd}D", {}, [base_of(x)])
        keep = int(a.get("keepdims", 1))
        rest = [None if i in axes else x.axes[i] for i in range(r) if keep or i not in axes]
        rest = [1 if v == len(x.shape) else v for v in rest]  # the channel axis becomes xnn axis 1
        return T(y.node, y.shape, tuple(rest))
    return h


_global_pool = handles("GlobalAveragePool", xnn="GlobalAvgPool1D/2D", cf=True)(_global("GlobalAvgPool"))
_global_max_pool = handles("GlobalMaxPool", xnn="GlobalMaxPool1D/2D", cf=True)(_global("GlobalMaxPool"))
_reduce_mean = handles("ReduceMean", xnn="GlobalAvgPool1D/2D", notes="over every spatial axis")(
    _reduce("GlobalAvgPool", "mean"))
_reduce_max = handles("ReduceMax", xnn="GlobalMaxPool1D/2D", notes="over every spatial axis")(
    _reduce("GlobalMaxPool", "max"))


handles("MaxPool", xnn="MaxPool1D/2D", cf=True,
        notes="valid/'same' pads; symmetric pads after a ReLU (zero padding)")(_pool("MaxPool"))
handles("AveragePool", xnn="AvgPool1D/2D", cf=True,
        notes="count_include_pad=0 with valid/'same' pads; =1 with symmetric pads")(_pool("AvgPool"))
