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


@handles("Conv", xnn="Conv1D/Conv2D", cf=True,
         notes="pads valid, symmetric, TF 'same'; auto_pad; a zero Pad right before it folded in")
def _conv(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    need_cf(st, node, x)
    w = need_const(st, node, ins[1], "W")
    b = ins[2] if len(ins) > 2 else None
    nd = w.ndim - 2
    if nd not in (1, 2):
        err(st, node, f"{nd}-D convolution is not an xnn layer")
    k = list(a.get("kernel_shape", w.shape[2:]))
    spatial, s, d, pads = geometry(st, node, a, x, k)
    src = base_of(x)
    pre = pending_pad(st, x)
    if pre is not None:  # a zero Pad read only by this Conv: one Conv with both pads, where xnn can say it
        src0, zp = pre
        both = [(lo + plo, hi + phi) for (lo, hi), (plo, phi) in zip(pads, zp)]
        kind = padding_kind(src0.shape[:nd], k, s, d, both)
        if kind is not None:
            drop_last_layer(st)
            src, spatial, pads = src0, src0.shape[:nd], both
    padding = pads_to_padding(st, node, spatial, k, s, d, pads, True)
    fields = {"filters": int(w.shape[0]), "kernel_size": k, "strides": s, "padding": padding, "dilation": d,
              "groups": int(a.get("group", 1)), "use_bias": b is not None}
    p = {"weight": w}
    if b is not None:
        p["bias"] = need_const(st, node, b, "B")
    y = add_layer(st, node, f"Conv{nd}D", fields, [src], p)
    if b is None:
        st.bias_slot[node.output[0]] = len(st.layers) - 1
    return T(y.node, y.shape, x.axes)


@handles("ConvTranspose", xnn="ConvTranspose1D/2D", cf=True,
         notes="pads + output_padding, auto_pad SAME_UPPER/LOWER, output_shape; what xnn's valid/same/symmetric padding says")
def _conv_transpose(st, node, ins, a):
    from .....layers._conv_transpose import crops, full_len

    x = need_tensor(st, node, ins[0])
    need_cf(st, node, x)
    w = need_const(st, node, ins[1], "W")
    b = ins[2] if len(ins) > 2 else None
    nd = w.ndim - 2
    if nd not in (1, 2):
        err(st, node, f"{nd}-D transposed convolution is not an xnn layer")
    k = [int(v) for v in a.get("kernel_shape", w.shape[2:])]
    s = [int(v) for v in a.get("strides", [1] * nd)]
    d = [int(v) for v in a.get("dilations", [1] * nd)]
    op = [int(v) for v in a.get("output_padding", [0] * nd)]
    g = int(a.get("group", 1))
    spatial = list(x.shape[:nd])
    full = [full_len(spatial[i], k[i], s[i], d[i]) for i in range(nd)]
    ap = a.get("auto_pad", b"NOTSET")
    ap = ap.decode() if isinstance(ap, bytes) else ap
    target = a.get("output_shape")
    if target is not None or ap in ("SAME_UPPER", "SAME_LOWER"):
        target = [int(v) for v in (target[-nd:] if target is not None else [spatial[i] * s[i] for i in range(nd)])]
        total = [full[i] + op[i] - target[i] for i in range(nd)]
        if any(t < 0 for t in total):
            err(st, node, f"output shape {target} exceeds the full transposed convolution {full}: xnn cannot express it")
        # ONNX: SAME_UPPER puts the larger half at the end, otherwise at the start
        pb = [t // 2 if ap == "SAME_UPPER" else t - t // 2 for t in total]
        pe = [total[i] - pb[i] for i in range(nd)]
    elif ap == "VALID":
        pb, pe = [0] * nd, [0] * nd
    else:
        p = [int(v) for v in a.get("pads", [0] * (2 * nd))]
        pb, pe = p[:nd], p[nd:]
    cut = [(pb[i], pe[i] - op[i]) for i in range(nd)]
    if all(c == (0, 0) for c in cut):
        padding, outpad = "valid", [0] * nd
    elif cut == crops("same", [0] * nd, spatial, k, s, d):
        padding, outpad = "same", [0] * nd
    else:
        outpad = [lo - hi for lo, hi in cut]
        if any(lo < 0 for lo, _ in cut) or any(not 0 <= outpad[i] < max(s[i], d[i]) for i in range(nd)):
            err(st, node, f"pads {pb + pe} with output_padding {op} cut {[list(c) for c in cut]} cells from the "
                           "full output; xnn's ConvTranspose cuts p at both ends (output_padding fewer at the end) "
                           "or follows TF's 'same'")
        padding = "valid" if not any(lo for lo, _ in cut) else [int(lo) for lo, _ in cut]
    fields = {"filters": int(w.shape[1]) * g, "kernel_size": k, "strides": s, "padding": padding,
              "output_padding": outpad, "dilation": d, "groups": g, "use_bias": b is not None}
    params = {"weight": w}
    if b is not None:
        params["bias"] = need_const(st, node, b, "B")
    y = add_layer(st, node, f"ConvTranspose{nd}D", fields, [base_of(x)], params)
    if b is None:
        st.bias_slot[node.output[0]] = len(st.layers) - 1
    return T(y.node, y.shape, x.axes)


def pending_pad(st, x: T):
    """``(its input, pads)`` when ``x`` views the last layer, a ZeroPadding, through a chain of ONNX
    tensors each read once (a Pad, maybe Transposes, then the reader): None otherwise."""
    if not st.layers or st.layers[-1]["name"] != x.node or not st.layers[-1]["type"].startswith("ZeroPadding"):
        return None
    views = [k for k, v in st.tens.items() if isinstance(v, T) and v.node == x.node]
    if not views or any(st.uses.get(k, 0) != 1 for k in views):
        return None
    from .....layers._pad_crop import amounts

    entry = st.layers[-1]
    nd = len(x.shape) - 1
    src = entry["inputs"][0] if "inputs" in entry else (st.layers[-2]["name"] if len(st.layers) > 1 else "input")
    shape = st.shapes[src]
    return T(src, shape, tuple(range(len(shape) + 1))), amounts(entry["padding"], nd, "padding")


def drop_last_layer(st) -> None:
    """Remove the last layer (read by nothing yet), e.g. a ZeroPadding folded into the Conv after it."""
    entry = st.layers.pop()
    st.shapes.pop(entry["name"], None)
    st.names.discard(entry["name"])
    st.nonneg.discard(entry["name"])


def _pad_amounts(st, node, ins, a, x: T) -> list[tuple[int, int]]:
    """Per xnn spatial axis ``(lo, hi)`` of a zero ``Pad`` (negative: cells removed)."""
    mode = a.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    r = x.rank
    axes = list(range(r))
    if st.opset >= 11:
        p = need_const(st, node, ins[1], "pads").astype(int).reshape(-1).tolist()
        val = ins[2] if len(ins) > 2 else None
        val = 0.0 if val is None else float(np.asarray(need_const(st, node, val, "constant_value")).reshape(()))
        if len(ins) > 3 and ins[3] is not None:  # opset 18: pads for these axes only
            axes = [int(v) % r for v in need_const(st, node, ins[3], "axes").astype(int).reshape(-1)]
    else:
        p, val = [int(v) for v in a.get("pads", [])], float(a.get("value", 0.0))
    if mode != "constant" or val != 0.0:
        err(st, node, f"only zero constant padding is supported (received mode {mode!r}, value {val})")
    if len(p) != 2 * len(axes) or len(set(axes)) != len(axes):
        err(st, node, f"pads {p} do not fit the {len(axes)} padded axes")
    if x.perm is not None:
        err(st, node, "padding a permuted feature vector")
    nd = len(x.shape) - 1
    out = [(0, 0)] * nd
    n = len(axes)
    for j, i in enumerate(axes):
        lo, hi = p[j], p[j + n]
        if lo == 0 and hi == 0:
            continue
        xa = x.axes[i]
        if xa is None or xa == 0 or xa == nd + 1:
            err(st, node, f"pads {p}: padding the batch, channel or an inserted unit axis is not an xnn layer")
        out[xa - 1] = (lo, hi)
    if any(v != (0, 0) for v in out) and nd not in (1, 2):
        err(st, node, f"padding a tensor with {nd} spatial axes is not an xnn layer (ZeroPadding1D/2D)")
    return out


def edge_field(pairs) -> list:
    """xnn's ``padding``/``cropping`` value for per-axis ``(lo, hi)``: ``[lo, hi]`` (1-D) or
    ``[[top, bottom], [left, right]]`` (2-D)."""
    return [int(pairs[0][0]), int(pairs[0][1])] if len(pairs) == 1 else [[int(lo), int(hi)] for lo, hi in pairs]


@handles("Pad", xnn="ZeroPadding1D/2D (folded into a Conv right after it)", notes="pads as attributes")
def _pad7(st, node, ins, a):
    return _pad(st, node, ins, a)


@handles("Pad", since=11, xnn="ZeroPadding1D/2D (folded into a Conv right after it)",
         notes="pads (and axes, 18+) as inputs; zeros only; negative pads: Cropping1D/2D")
def _pad(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    pairs = _pad_amounts(st, node, ins, a, x)
    nd = len(pairs)
    y = base_of(x)
    crop = [(max(-lo, 0), max(-hi, 0)) for lo, hi in pairs]
    if any(c != (0, 0) for c in crop):
        y = add_layer(st, node, f"Cropping{nd}D", {"cropping": edge_field(crop)}, [y])
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
    if any(g != (0, 0) for g in grow):
        y = add_layer(st, node, f"ZeroPadding{nd}D", {"padding": edge_field(grow)}, [y])
    if y.node == x.node:
        return x  # nothing padded
    return T(y.node, y.shape, x.axes)


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
