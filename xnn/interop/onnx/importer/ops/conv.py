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


@handles("Conv", xnn="Conv1D/Conv2D (Dense for a 1x1 Conv of a pooled (N, C, 1, 1) vector)", cf=True,
         notes="pads valid, symmetric, TF 'same'; auto_pad; a zero Pad right before it folded in")
def _conv(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    w = need_const(st, node, ins[1], "W")
    b = ins[2] if len(ins) > 2 else None
    nd = w.ndim - 2
    if len(x.shape) == 1 and x.rank >= 3 and x.axes[:2] == (0, 1) and all(v is None for v in x.axes[2:]):
        return _conv_of_vector(st, node, x, w, b, a)
    need_cf(st, node, x)
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


def _conv_of_vector(st, node, x: T, w: np.ndarray, b, a) -> T:
    """A 1x1 Conv of a ``(N, C, 1, ..., 1)`` view of an xnn vector (a classifier after
    GlobalAveragePool, as in DenseNet's and SqueezeNet-style heads): a Dense, seen as
    ``(N, units, 1, ..., 1)`` again."""
    nd = x.rank - 2
    k = list(a.get("kernel_shape", w.shape[2:]))
    p = list(a.get("pads", [0] * (2 * nd)))
    ap = a.get("auto_pad", b"NOTSET")
    ap = ap.decode() if isinstance(ap, bytes) else ap
    if w.ndim != x.rank or any(v != 1 for v in k) or any(p) or int(a.get("group", 1)) != 1 or \
            ap not in ("NOTSET", "VALID", "SAME_UPPER", "SAME_LOWER"):
        err(st, node, "a convolution of a (N, C, 1, 1) view of a vector maps to xnn only as a 1x1 Conv without "
                       "padding or groups (a Dense)")
    from .dense import dense

    bias = None if b is None else np.asarray(need_const(st, node, b, "B"), np.float64).reshape(-1)
    y = dense(st, node, T(x.node, x.shape, (0, 1), x.perm), np.asarray(w, np.float64).reshape(w.shape[0], w.shape[1]), bias)
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


def _pool_out(n: int, k: int, s: int, lo: int, hi: int, ceil: bool) -> int:
    """ONNX's output length of a pool (dilation 1); with ``ceil_mode`` a last window that would start
    in the end padding is dropped (ONNX Runtime's and PyTorch's rule)."""
    span = n + lo + hi - k
    if span < 0:
        return 0
    o = (-(-span // s) if ceil else span // s) + 1
    if ceil and (o - 1) * s >= n + lo:
        o -= 1
    return o


def _counts(n: int, k: int, s: int, lo: int, hi: int, o: int, include: bool) -> np.ndarray:
    """Cells window ``i`` averages over (ONNX): inside the input, or inside the declared pads with
    ``count_include_pad=1`` (never the cells a ``ceil_mode`` window reaches beyond them)."""
    start = np.arange(o) * s - lo
    a, b = (-lo, n + hi) if include else (0, n)
    return np.minimum(start + k, b) - np.maximum(start, a)


def _pool(kind: str):
    def h(st, node, ins, a):
        x = need_tensor(st, node, ins[0])
        need_cf(st, node, x)
        k = [int(v) for v in a["kernel_shape"]]
        nd = len(k)
        if nd not in (1, 2):
            err(st, node, f"{nd}-D pooling is not an xnn layer")
        spatial, s, d, pads = geometry(st, node, a, x, k)
        if any(v != 1 for v in d):
            err(st, node, "dilated pooling is not an xnn layer")
        ceil = bool(int(a.get("ceil_mode", 0)))
        include = kind == "AvgPool" and bool(int(a.get("count_include_pad", 0)))
        n = [int(v) for v in spatial]
        out = [_pool_out(n[i], k[i], s[i], pads[i][0], pads[i][1], ceil) for i in range(nd)]
        if any(o <= 0 for o in out):
            err(st, node, f"pool of size {k} does not fit the input {n} with pads {[list(p) for p in pads]}")
        # the pads the windows actually read: all of the start ones, at the end up to the last window
        eff = [(pads[i][0], max(0, (out[i] - 1) * s[i] + k[i] - pads[i][0] - n[i])) for i in range(nd)]
        valid = [_counts(n[i], k[i], s[i], pads[i][0], pads[i][1], out[i], False) for i in range(nd)]
        if any(np.any(v <= 0) for v in valid):
            err(st, node, f"pads {[list(p) for p in pads]}: a window holds padding only, which xnn's pools do not produce")
        src = base_of(x)
        from .....layers import _conv

        same = [_conv.same_pads(n[i], k[i], s[i], 1) for i in range(nd)]
        if all(p == (0, 0) for p in eff):
            padding = "valid"
        elif eff == same and not include:
            padding = "same"  # xnn's 'same': TF's pads, padded cells never counted
        elif all(o == 1 for o in out) and all(v[0] == n[i] for i, v in enumerate(valid)):
            # one window over the whole input: a global pool, seen as (N, C, 1, ..., 1)
            y = add_layer(st, node, f"Global{kind}{nd}D", {}, [src])
            view = T(y.node, y.shape, (0, 1, *([None] * nd)))
            if include:
                cnt = np.prod([_counts(n[i], k[i], s[i], pads[i][0], pads[i][1], 1, True)[0] for i in range(nd)])
                y = add_layer(st, node, "Scale", {"shape": [1], "use_bias": False}, [y],
                              {"weight": np.array([float(np.prod(n)) / float(cnt)])},
                              name=fresh(st, name_hint(node) + "_count"))
                view = T(y.node, y.shape, view.axes)
            return view
        else:
            # explicit pads: padding layers, then a 'valid' pool. Max: zeros where the input is known to be
            # >= 0, else copies of the edge cells (each window that reads padding also reads the edge cell
            # next to it, so -inf and a copy of it give the same maximum).
            if kind == "MaxPool" and src.node not in st.nonneg:
                src = edge_pad(st, node, src, eff)
            else:
                src = zero_pad(st, node, src, eff)
            padding = "valid"
        y = add_layer(st, node, f"{kind}{nd}D", {"pool_size": k, "strides": s, "padding": padding}, [src])
        if list(y.shape[:nd]) != out:
            err(st, node, f"internal: output {list(y.shape[:nd])} is not ONNX's {out}")
        if kind == "AvgPool" and padding == "valid" and src.node != x.node:
            # zeros counted in each window's divisor prod(k); ONNX divides by the cells it counts
            cnt = [_counts(n[i], k[i], s[i], pads[i][0], pads[i][1], out[i], include) for i in range(nd)]
            div = cnt[0] if nd == 1 else np.multiply.outer(cnt[0], cnt[1])
            factor = float(np.prod(k)) / div.astype(np.float64)
            if np.any(factor != 1.0):
                y = add_layer(st, node, "Scale", {"shape": [*out, 1], "use_bias": False}, [y],
                              {"weight": factor.reshape(*out, 1)}, name=fresh(st, name_hint(node) + "_count"))
        return T(y.node, y.shape, x.axes)
    return h


def zero_pad(st, node, x: T, pads: list[tuple[int, int]]) -> T:
    """A ZeroPadding1D/2D of per-axis ``(lo, hi)`` pads before a 'valid' pool (xnn's pools pad only
    'same' themselves)."""
    nd = len(pads)
    return add_layer(st, node, f"ZeroPadding{nd}D", {"padding": edge_field(pads)}, [x],
                     name=fresh(st, name_hint(node) + "_pad"))


def edge_pad(st, node, x: T, pads: list[tuple[int, int]]) -> T:
    """``x`` padded by copies of its edge cells (per xnn spatial axis ``(lo, hi)``): Cropping1D/2D
    layers that keep the first / last cell and a Concatenate along that axis."""
    nd = len(pads)
    y = x
    for i, (lo, hi) in enumerate(pads):
        if lo == 0 and hi == 0:
            continue
        n = y.shape[i]
        parts = []
        for count, keep in ((lo, "first"), (hi, "last")):
            if not count:
                parts.append(None)
                continue
            if n == 1:
                edge = y
            else:
                crop = [(0, 0)] * nd
                crop[i] = (0, n - 1) if keep == "first" else (n - 1, 0)
                edge = add_layer(st, node, f"Cropping{nd}D", {"cropping": edge_field(crop)}, [y],
                                 name=fresh(st, f"{name_hint(node)}_{keep}{i}"))
            parts.append([edge] * count)
        ins = (parts[0] or []) + [y] + (parts[1] or [])
        y = add_layer(st, node, "Concatenate", {"axis": i - nd - 1}, ins, name=fresh(st, f"{name_hint(node)}_pad{i}"))
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


handles("MaxPool", xnn="MaxPool1D/2D (after ZeroPadding, or Cropping + Concatenate edge copies)", cf=True,
        notes="any pads, auto_pad, ceil_mode: valid/'same', else padding layers and a valid pool (zeros after a "
              "ReLU, else copies of the edge cells); one window over the input: GlobalMaxPool; not dilated")(_pool("MaxPool"))
handles("AveragePool", xnn="AvgPool1D/2D (after ZeroPadding, then a per-position Scale)", cf=True,
        notes="any pads, auto_pad, ceil_mode, count_include_pad: valid/'same', else zero padding, a valid pool and "
              "a Scale where ONNX divides by fewer cells; one window over the input: GlobalAvgPool; not dilated")(
    _pool("AvgPool"))
