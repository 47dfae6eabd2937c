"""Build one-layer specs from registry cases and run them through torch, Keras and NumPy.

Tolerances are fixed here per dtype, never derived from measurements.
"""
from __future__ import annotations

import numpy as np

from xnn.cases import all_cases, case_input, case_spec  # noqa: F401  (re-exported for tests)

RTOL = {"float64": 1e-10, "float32": 1e-5}
ATOL_SCALE = {"float64": 1e-12, "float32": 1e-5}  # times the output scale (max |y|, at least 1)
GRAD_RTOL = 1e-8  # float64 gradients, torch vs Keras


def assert_close(a, b, dtype, what):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    assert a.shape == b.shape, f"{what}: shape {a.shape} vs {b.shape}"
    scale = max(1.0, float(np.max(np.abs(b))) if b.size else 1.0)
    atol = ATOL_SCALE[dtype] * scale
    err = float(np.max(np.abs(a - b))) if a.size else 0.0
    ok = np.allclose(a, b, rtol=RTOL[dtype], atol=atol)
    assert ok, f"{what}: max abs diff {err:.3e} (atol {atol:.1e}, rtol {RTOL[dtype]:.0e})"


# ------------------------------------------------------------------ gradients
def torch_grads(spec, params, x, r):
    import torch

    from xnn.backends import torch as tb

    m = tb.build(spec, params, dtype="float64")
    m.eval()
    xt = torch.tensor(x, requires_grad=np.issubdtype(x.dtype, np.floating))
    y = m(xt)
    (y * torch.tensor(r)).sum().backward()
    from xnn.backends.torch.lowering import lowerings

    low = lowerings()
    g = {}
    for node in spec.nodes:
        if not node.params:
            continue
        mod = m.layers[node.name]
        # native gradients -> canonical through the lowering, so fused or re-laid-out native
        # params are checked too; buffers and unused params count as zero gradient
        prms = dict(mod.named_parameters())
        native = {k: prms[k].grad.numpy() if k in prms and prms[k].grad is not None else np.zeros(tuple(v.shape))
                  for k, v in mod.state_dict().items()}
        canon = low[node.kind].from_native(node, native)
        for k, p in node.params.items():
            if not p.trainable:
                continue
            assert k in canon, f"{node.name}.{k}: no gradient from the torch lowering's from_native"
            g[f"{node.name}.{k}"] = np.asarray(canon[k]).reshape(p.shape)
    gx = xt.grad.numpy() if xt.grad is not None else None
    return g, gx


def keras_grads(spec, params, x, r):
    import tensorflow as tf

    from xnn.backends import keras as kb

    m = kb.build(spec, params, dtype="float64")
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        if xt.dtype.is_floating:
            tape.watch(xt)
        y = m(xt, training=False)
        loss = tf.reduce_sum(y * tf.constant(r))
    vars_ = m.trainable_variables
    grads = tape.gradient(loss, vars_ + ([xt] if xt.dtype.is_floating else []))
    gx = grads[-1].numpy() if xt.dtype.is_floating else None
    # map native gradients back to canonical names via the lowering's from_native
    from xnn.backends.keras.lowering import lowerings

    low = lowerings()
    # gathers (Embedding) give tf.IndexedSlices: densify them to compare
    gmap = {id(v): tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g
            for v, g in zip(vars_, grads[: len(vars_)])}
    out = {}
    for node in spec.nodes:
        if not node.params:
            continue
        layer = m.get_layer(node.name)
        ws = [gmap[id(v)].numpy() if id(v) in gmap else np.zeros(v.shape) for v in layer.weights]
        for k, v in low[node.kind].from_native(node, ws).items():
            if node.params[k].trainable:
                out[f"{node.name}.{k}"] = np.asarray(v).reshape(node.params[k].shape)
    return out, gx
