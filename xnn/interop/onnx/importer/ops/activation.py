"""Activations, Softmax, x*Sigmoid(x) (SiLU), x*HardSigmoid(x) (hard_swish), Clip (relu6, relu),
HardSigmoid, HardSwish, Identity, Dropout; Mul/Sub of tensors (Multiply, Subtract: ``pointwise``)."""
from __future__ import annotations

import numpy as np

from ..registry import handles
from ..state import T, add_layer, base_of, err, f32, keep_view, need_const, need_tensor


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
                         ("Tanh", "tanh", 7), ("Elu", "elu", 7), ("Gelu", "gelu", 20), ("HardSwish", "hard_swish", 14)):
    handles(_op, since=_since, xnn=f"Activation {_fn}")(_act(_fn))
