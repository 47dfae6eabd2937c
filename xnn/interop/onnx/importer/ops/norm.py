"""BatchNormalization, LayerNormalization -> BatchNorm, LayerNorm."""
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
