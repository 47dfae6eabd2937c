"""Activations, Softmax, x*Sigmoid(x) (SiLU), x*HardSigmoid(x) (hard_swish), Clip (relu6, relu),
HardSigmoid, HardSwish, Identity, Dropout; Mul/Sub of tensors (Multiply, Subtract: ``pointwise``);
GELU written out below opset 20 (:func:`fold_gelu`: the Erf and the tanh expressions)."""
from __future__ import annotations

import math

import numpy as np

from ..registry import handles, rewrites
from ..state import T, add_layer, base_of, err, f32, fresh, keep_view, need_const, need_tensor


@handles("Identity", xnn="(nothing)", glue=True)
def _identity(st, node, ins, a):
    return need_tensor(st, node, ins[0]) if node.op_type != "Identity" else ins[0]


def _act(fn: str):
    def h(st, node, ins, a):
        x = need_tensor(st, node, ins[0])
        fields: dict = {"fn": fn}
        if fn == "leaky_relu":
            fields["negative_slope"] = f32(a.get("alpha", 0.01))
        if fn == "elu":
            fields["alpha"] = f32(a.get("alpha", 1.0))
        if fn == "gelu" and a.get("approximate", b"none") in ("tanh", b"tanh"):
            fields["fn"] = "gelu_tanh"
        y = keep_view(add_layer(st, node, "Activation", fields, [base_of(x)]), x)
        if fn == "sigmoid":  # a following Mul(x, sigmoid(x)) turns this layer into silu
            st.sigmoid_of[node.output[0]] = (len(st.layers) - 1, x.node)
        return y
    return h


@handles("Softmax", xnn="Activation softmax", notes="before 13: axes axis.. flattened, one of them wider than 1")
def _softmax7(st, node, ins, a):
    return _softmax(st, node, ins, a)


@handles("Softmax", since=13, xnn="Activation softmax", notes="any axis")
def _softmax(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    r = x.rank
    ax = int(a.get("axis", -1 if st.opset >= 13 else 1)) % r
    if st.opset < 13 and ax != r - 1:
        # axes ax.. are flattened into one: a softmax over one axis when the others have size 1
        shape = x.onnx_shape()
        wide = [i for i in range(ax, r) if shape[i] != 1]
        if len(wide) > 1:
            err(st, node, f"Softmax before opset 13 flattens axes {ax}.. (sizes {shape[ax:]}) into one; xnn's "
                           "softmax runs over one axis")
        held = [i for i in range(ax, r) if x.axes[i] not in (None, 0)]
        ax = wide[0] if wide else (held[0] if held else ax)
    xa = x.axes[ax]
    if xa is None or xa == 0:
        err(st, node, "softmax over a unit or batch axis")
    fields = {"fn": "softmax", "axis": int(xa - (len(x.shape) + 1))}
    return keep_view(add_layer(st, node, "Activation", fields, [base_of(x)]), x)


@handles("Dropout", xnn="Dropout (SpatialDropout1D/2D: xnn's doc_string)", notes="rate kept; training_mode=0")
def _dropout(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    rate = a.get("ratio", 0.5)
    if len(ins) > 1 and ins[1] is not None:
        rate = float(np.asarray(need_const(st, node, ins[1], "ratio")).reshape(()))
    if len(ins) > 2 and ins[2] is not None and bool(np.asarray(need_const(st, node, ins[2], "training_mode")).reshape(())):
        err(st, node, "training_mode=1 Dropout cannot be imported")
    kind = "Dropout"
    for k, dims in (("SpatialDropout1D", 1), ("SpatialDropout2D", 2)):  # xnn's export marks these
        if node.doc_string.startswith(f"xnn {k}:") and len(x.shape) == dims + 1 and x.perm is None:
            kind = k
    return keep_view(add_layer(st, node, kind, {"rate": f32(rate)}, [base_of(x)]), x)


@handles("Mul", xnn="Multiply (Activation silu / hard_swish for x * Sigmoid(x) / HardSigmoid(x)); a constant: "
         "Scale (or the scale of the GroupNorm/BatchNorm/Scale before)",
         notes="tensors: NumPy broadcasting that is xnn's per-sample broadcasting; tensor * constant")
def _mul(st, node, ins, a):
    """``x * Sigmoid(x)`` (SiLU as exporters write it) and ``x * HardSigmoid(x)`` (hard_swish); any
    other product of tensors is a Multiply (see :mod:`.pointwise`)."""
    x, s = ins
    if isinstance(x, T) and isinstance(s, T):
        for u, v, vname in ((x, s, node.input[1]), (s, x, node.input[0])):
            src = st.sigmoid_of.get(vname)
            if src is not None and src[1] == u.node and st.uses.get(vname) == 1 and u.axes == v.axes:
                entry = st.layers[src[0]]
                entry["fn"] = "silu" if entry["fn"] == "sigmoid" else "hard_swish"
                st.nonneg.discard(entry["name"])
                return v
    from .pointwise import product

    return product(st, node, ins)


def _clip_bounds(st, node, ins, a) -> tuple[float | None, float | None]:
    """Clip's (min, max): attributes before opset 11, optional constant inputs from 11; None = unbounded."""
    if st.opset < 11:
        lo, hi = a.get("min"), a.get("max")
    else:
        lo = None if len(ins) < 2 or ins[1] is None else float(np.asarray(need_const(st, node, ins[1], "min")).reshape(()))
        hi = None if len(ins) < 3 or ins[2] is None else float(np.asarray(need_const(st, node, ins[2], "max")).reshape(()))
    big = float(np.finfo(np.float32).max)
    lo = None if lo is None or lo <= -big else float(lo)
    hi = None if hi is None or hi >= big else float(hi)
    return lo, hi


@handles("Clip", xnn="Activation relu6 (or relu)", notes="min 0, max 6 (relu6) or none (relu); before 11 attributes, "
                                                        "then inputs")
def _clip(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    lo, hi = _clip_bounds(st, node, ins, a)
    if lo == 0.0 and hi in (6.0, None):
        fn = "relu6" if hi == 6.0 else "relu"
        y = keep_view(add_layer(st, node, "Activation", {"fn": fn}, [base_of(x)]), x)
        st.nonneg.add(y.node)
        return y
    err(st, node, f"Clip(min={lo}, max={hi}): only Clip(0, 6) (relu6) and Clip(0, none) (relu) are xnn layers")


@handles("HardSigmoid", xnn="Activation hard_sigmoid", notes="alpha 1/6, beta 0.5 only (torch's and Keras 3's)")
def _hard_sigmoid(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    alpha, beta = float(a.get("alpha", 0.2)), float(a.get("beta", 0.5))
    if np.float32(alpha) != np.float32(1.0 / 6.0) or np.float32(beta) != np.float32(0.5):
        err(st, node, f"HardSigmoid(alpha={f32(alpha)}, beta={f32(beta)}) is not xnn's hard_sigmoid "
                       "(relu6(x + 3) / 6: alpha 1/6, beta 0.5); ONNX's default alpha 0.2 is Keras 2's "
                       "hard_sigmoid, which xnn has no layer for")
    y = keep_view(add_layer(st, node, "Activation", {"fn": "hard_sigmoid"}, [base_of(x)]), x)
    st.nonneg.add(y.node)
    st.sigmoid_of[node.output[0]] = (len(st.layers) - 1, x.node)  # x * HardSigmoid(x) is hard_swish
    return y


for _op, _fn, _since in (("Relu", "relu", 7), ("LeakyRelu", "leaky_relu", 7), ("Sigmoid", "sigmoid", 7),
                         ("Elu", "elu", 7), ("Gelu", "gelu", 20), ("HardSwish", "hard_swish", 14)):
    handles(_op, since=_since, xnn=f"Activation {_fn}")(_act(_fn))


# --- GELU below opset 20 ------------------------------------------------------------------------
# Before opset 20 (no Gelu op) exporters write GELU out: exact GELU as 0.5·x·(1 + Erf(x/√2)) and
# the tanh approximation as 0.5·x·(1 + Tanh(√(2/π)·(x + 0.044715·x³))). :func:`fold_gelu` finds
# those expressions in the graph before the import runs and replaces each by one node (the Erf or
# Tanh node, reading x and writing the expression's output), which the handlers below turn into
# one Activation. Matched: xnn's order (Mul(Mul(x, 0.5), 1 + e)) and torch.onnx's
# (Mul(Mul(x, 1 + e), 0.5)), x/√2 as Div(x, √2) or Mul(x, 1/√2), x³ as Mul(Mul(x, x), x) or
# Pow(x, 3), operands of Add/Mul in either order. Every constant is a scalar checked to float
# tolerance and every intermediate tensor has the expression as its only reader; anything else is
# left alone (a lone Erf is then refused).

_RTOL = 1e-6  # float32 constants of √2, 1/√2, √(2/π) and 0.044715 are within 1e-7 of the values


def _const_value(st, prod: dict, name: str, depth: int = 0):
    """The constant ``name`` holds before the import ran: an initializer or a ``Constant`` node (through
    Cast / Identity), else None."""
    if name in st.consts:
        return np.asarray(st.consts[name])
    n = prod.get(name)
    if n is None or depth > 4:
        return None
    if n.op_type in ("Cast", "Identity") and n.input:
        return _const_value(st, prod, n.input[0], depth + 1)
    if n.op_type == "Constant":
        from onnx import numpy_helper

        for at in n.attribute:
            if at.name == "value":
                return numpy_helper.to_array(at.t)
            if at.name == "value_float":
                return np.asarray(at.f, dtype=np.float32)
            if at.name == "value_floats":
                return np.asarray(list(at.floats), dtype=np.float32)
            if at.name == "value_int":
                return np.asarray(at.i)
    return None


@rewrites
def fold_gelu(st, nodes: list, outputs: set) -> list:
    """``nodes`` with every GELU expression (see above) replaced by one Erf / Tanh node reading x and
    writing the expression's output; records it in ``st.gelu`` (output -> (fn, layer name hint))."""
    if not any(n.op_type in ("Erf", "Tanh") for n in nodes):
        return nodes
    from onnx import helper

    from ..state import name_hint

    prod = {o: n for n in nodes for o in n.output}
    readers: dict = {}
    for n in nodes:
        for x in n.input:
            readers.setdefault(x, []).append(n)

    def scalar(name, value) -> bool:
        v = _const_value(st, prod, name)
        if v is None or v.size != 1 or v.ndim > 1 or not np.issubdtype(v.dtype, np.number):
            return False
        return bool(np.isclose(float(v.reshape(())), value, rtol=_RTOL, atol=0.0))

    def tensor(name) -> bool:
        return bool(name) and _const_value(st, prod, name) is None

    def only(name):
        """The single reader of an intermediate tensor (None when several, none, or a graph output)."""
        rs = readers.get(name, [])
        return rs[0] if len(rs) == 1 and name not in outputs else None

    def scaled(n, value):
        """The tensor ``n`` multiplies by ``value`` (Mul either order, or Div by 1/value), else None."""
        if n is None or len(n.input) != 2:
            return None
        a, b = n.input
        if n.op_type == "Mul":
            if scalar(b, value) and tensor(a):
                return a
            if scalar(a, value) and tensor(b):
                return b
        if n.op_type == "Div" and scalar(b, 1.0 / value) and tensor(a):
            return a
        return None

    def one_plus(t):
        """(the Add computing 1 + t, its output) when ``t`` is read only by such an Add."""
        a = only(t)
        if a is None or a.op_type != "Add" or len(a.input) != 2:
            return None
        other = a.input[1] if a.input[0] == t else a.input[0]
        return (a, a.output[0]) if list(a.input).count(t) == 1 and scalar(other, 1.0) else None

    def half_x_times(p, x):
        """The nodes computing 0.5 · x · p from ``p`` (two Muls, in any of the orders exporters write)."""
        m1 = only(p)
        if m1 is None or m1.op_type != "Mul" or len(m1.input) != 2 or list(m1.input).count(p) != 1:
            return None
        other = m1.input[1] if m1.input[0] == p else m1.input[0]
        if other == x:  # (x · p) · 0.5
            m2 = only(m1.output[0])
            return [m1, m2] if scaled(m2, 0.5) == m1.output[0] else None
        if scalar(other, 0.5):  # (0.5 · p) · x
            m2 = only(m1.output[0])
            if m2 is not None and m2.op_type == "Mul" and sorted(m2.input) == sorted([m1.output[0], x]) \
                    and m1.output[0] != x:
                return [m1, m2]
            return None
        h = prod.get(other)  # (0.5 · x) · p
        if h is not None and only(other) is m1 and scaled(h, 0.5) == x:
            return [h, m1]
        return None

    def cube_of(name):
        """(x, nodes) when ``name`` is x³ (Pow(x, 3), Mul(Mul(x, x), x) or Mul(x, Mul(x, x)))."""
        n = prod.get(name)
        if n is None or only(name) is None:
            return None
        if n.op_type == "Pow" and len(n.input) == 2 and tensor(n.input[0]) and scalar(n.input[1], 3.0):
            return n.input[0], [n]
        if n.op_type != "Mul" or len(n.input) != 2:
            return None
        for sq, x in ((n.input[0], n.input[1]), (n.input[1], n.input[0])):
            s = prod.get(sq)
            if s is not None and s.op_type == "Mul" and list(s.input) == [x, x] and tensor(x) and only(sq) is n:
                return x, [s, n]
        return None

    def erf_head(e):
        """(x, nodes) when Erf ``e`` reads x / √2 (Div by √2 or Mul by 1/√2) and is its only reader."""
        d = prod.get(e.input[0]) if e.input else None
        if d is None or only(e.input[0]) is not e:
            return None
        x = scaled(d, 1.0 / math.sqrt(2.0))
        return (x, [d]) if x is not None else None

    def tanh_head(t):
        """(x, nodes) when Tanh ``t`` reads √(2/π) · (x + 0.044715 · x³), each part read only there."""
        s = prod.get(t.input[0]) if t.input else None
        if s is None or only(t.input[0]) is not t:
            return None
        inner = scaled(s, math.sqrt(2.0 / math.pi))
        a = prod.get(inner) if inner else None
        if a is None or a.op_type != "Add" or len(a.input) != 2 or only(inner) is not s:
            return None
        for cx3, x in ((a.input[0], a.input[1]), (a.input[1], a.input[0])):
            m = prod.get(cx3)
            if m is None or only(cx3) is not a or not tensor(x):
                continue
            x3 = scaled(m, 0.044715)
            cube = cube_of(x3) if x3 else None
            if cube is not None and cube[0] == x:
                return x, [*cube[1], m, a, s]
        return None

    replace: dict = {}  # id(node) -> its replacement (None: dropped)
    for n in nodes:
        if n.op_type not in ("Erf", "Tanh") or len(n.output) != 1 or id(n) in replace:
            continue
        head = erf_head(n) if n.op_type == "Erf" else tanh_head(n)
        if head is None:
            continue
        x, pre = head
        tail = one_plus(n.output[0])
        if tail is None:
            continue
        rest = half_x_times(tail[1], x)
        if rest is None:
            continue
        part = [*pre, n, tail[0], *rest]
        if any(id(p) in replace for p in part) or any(len(p.output) != 1 for p in part):
            continue
        final = rest[-1]  # every other part's output was checked to be read only by the next part
        out = final.output[0]
        carrier = helper.make_node(n.op_type, [x], [out], name=final.name)
        st.gelu[out] = ("gelu" if n.op_type == "Erf" else "gelu_tanh", name_hint(final))
        for p in part:
            replace[id(p)] = None
        replace[id(final)] = carrier
    if not replace:
        return nodes
    return [replace.get(id(n), n) for n in nodes if replace.get(id(n), n) is not None]


def _gelu(st, node, ins, a):
    fn, hint = st.gelu[node.output[0]]
    x = need_tensor(st, node, ins[0])
    return keep_view(add_layer(st, node, "Activation", {"fn": fn}, [base_of(x)], name=fresh(st, hint)), x)


@handles("Erf", xnn="Activation gelu", notes="only inside exact GELU 0.5·x·(1+Erf(x/√2)) (xnn's and torch.onnx's "
         "form before opset 20, any operand order); any other Erf is refused")
def _erf(st, node, ins, a):
    if node.output[0] in st.gelu:
        return _gelu(st, node, ins, a)
    err(st, node, "Erf imports only as part of exact GELU, 0.5·x·(1 + Erf(x/√2)) with x/√2 and 1 + Erf read only "
                   "there; this Erf is not (xnn has no erf layer)")


_tanh = _act("tanh")


@handles("Tanh", xnn="Activation tanh (gelu_tanh: inside 0.5·x·(1+Tanh(√(2/π)·(x+0.044715·x³))))")
def _tanh_or_gelu(st, node, ins, a):
    if node.output[0] in st.gelu:
        return _gelu(st, node, ins, a)
    return _tanh(st, node, ins, a)
