"""Activations, Softmax, x*Sigmoid(x) (SiLU), Identity, Dropout."""
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


@handles("Dropout", xnn="Dropout", notes="rate kept; training_mode=0")
def _dropout(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    rate = a.get("ratio", 0.5)
    if len(ins) > 1 and ins[1] is not None:
        rate = float(np.asarray(need_const(st, node, ins[1], "ratio")).reshape(()))
    if len(ins) > 2 and ins[2] is not None and bool(np.asarray(need_const(st, node, ins[2], "training_mode")).reshape(())):
        err(st, node, "training_mode=1 Dropout cannot be imported")
    return keep_view(add_layer(st, node, "Dropout", {"rate": f32(rate)}, [base_of(x)]), x)


@handles("Mul", xnn="Activation silu", notes="x * Sigmoid(x) only")
def _mul(st, node, ins, a):
    """``x * Sigmoid(x)`` (SiLU as exporters write it); other products are not layers."""
    x, s = ins
    if isinstance(x, T) and isinstance(s, T):
        for u, v, vname in ((x, s, node.input[1]), (s, x, node.input[0])):
            src = st.sigmoid_of.get(vname)
            if src is not None and src[1] == u.node and st.uses.get(vname) == 1 and u.axes == v.axes:
                st.layers[src[0]]["fn"] = "silu"
                st.nonneg.discard(st.layers[src[0]]["name"])
                return v
    err(st, node, "only x * Sigmoid(x) (SiLU) is supported as a product of tensors")


for _op, _fn, _since in (("Relu", "relu", 7), ("LeakyRelu", "leaky_relu", 7), ("Sigmoid", "sigmoid", 7),
                         ("Tanh", "tanh", 7), ("Elu", "elu", 7), ("Gelu", "gelu", 20)):
    handles(_op, since=_since, xnn=f"Activation {_fn}")(_act(_fn))
