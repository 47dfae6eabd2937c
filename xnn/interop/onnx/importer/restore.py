"""A file xnn wrote, read back as the spec it was written from.

xnn stores the spec it exported in the metadata (``xnn_spec``). The graph import reads the ops and
gives the primitive layers they compute; some of xnn's layers have no form it reads back
(MultiHeadAttention's MatMul/Softmax pattern, ClassToken's Expand + Concat, PositionalEmbedding's
Add of a table), and then the import of such a file fails. :func:`restore_model` (the driver's
fallback) takes the stored spec instead, but only when it is exactly
what the file holds: the weights are read out of the initializers (where xnn's export of the spec
puts each weight element: found by exporting distinct probe values), then the spec is exported
again with them at the file's opset and element type, and every node, initializer, input and output
must be identical to the file's. A file edited after xnn wrote it, a stored spec that does not fit,
or a weight the file does not hold in full (e.g. the rows of a positional table beyond the sequence
length) give None: the graph import's answer (or its error) stands.
"""
from __future__ import annotations

import numpy as np

_PROBE = 2.0 ** 20  # probe values PROBE + i: exact in float32 while PROBE + i < 2**24, far from real constants


def restore_model(model, path: str) -> tuple[dict, dict[str, np.ndarray]] | None:
    """``(spec_dict, params)`` from the file's ``xnn_spec`` when re-exporting it reproduces the graph, else None."""
    from onnx import TensorProto, numpy_helper

    from ....limits import loads_json
    from ....spec import from_dict
    from ..export import build_model

    meta = {p.key: p.value for p in model.metadata_props}
    raw = meta.get("xnn_spec")
    if raw is None or len(model.graph.output) != 1:
        return None
    dtype = {TensorProto.FLOAT: "float32", TensorProto.DOUBLE: "float64"}.get(
        model.graph.output[0].type.tensor_type.elem_type)
    opset = next((int(o.version) for o in model.opset_import if o.domain in ("", "ai.onnx")), 0)
    if dtype is None:
        return None
    try:
        stored = loads_json(raw, f"{path}: metadata xnn_spec")
        spec = from_dict(stored, source=path)
        shapes = spec.param_shapes()
        total = sum(int(np.prod(s.shape if hasattr(s, "shape") else s)) for s in shapes.values())
        # every weight element is in the file's initializers: a stored spec larger than them is
        # not this file's (and a small hostile file cannot make the probe export allocate more)
        held = sum(int(np.prod(t.dims)) for t in model.graph.initializer
                   if t.data_type in (TensorProto.FLOAT, TensorProto.DOUBLE))
        if _PROBE + total >= 2.0 ** 24 or total > held:
            return None
        probe, start = {}, 0
        for k in sorted(shapes):
            shape = tuple(shapes[k].shape if hasattr(shapes[k], "shape") else shapes[k])
            n = int(np.prod(shape))
            probe[k] = (_PROBE + start + np.arange(n, dtype=np.float64)).reshape(shape)
            start += n
        pm = build_model(spec, probe, opset, dtype)
    except Exception:  # a stored spec that does not load or export: not this file's (XnnError, onnx's checks)
        return None
    # where each weight element went: (initializer, flat position) for probe value PROBE + i
    where_init = np.full(total, -1, dtype=np.int64)
    where_pos = np.full(total, -1, dtype=np.int64)
    names = []
    for t in pm.graph.initializer:
        a = numpy_helper.to_array(t)
        if not np.issubdtype(a.dtype, np.floating):
            continue
        flat = a.astype(np.float64).ravel()
        idx = flat - _PROBE
        hit = np.flatnonzero((idx >= 0) & (idx < total) & (idx == np.round(idx)))
        names.append(t.name)
        where_init[idx[hit].astype(np.int64)] = len(names) - 1
        where_pos[idx[hit].astype(np.int64)] = hit
    if total and (where_init < 0).any():
        return None
    have = {t.name: t for t in model.graph.initializer}
    arrays = {}
    for nm in set(names):
        if nm not in have:
            return None
        arrays[nm] = numpy_helper.to_array(have[nm]).astype(np.float64).ravel()
    flat = np.empty(total)
    for j, nm in enumerate(names):
        sel = where_init == j
        if sel.any():
            a = arrays[nm]
            if where_pos[sel].max() >= a.size:
                return None
            flat[sel] = a[where_pos[sel]]
    params, start = {}, 0
    for k in sorted(probe):
        n = probe[k].size
        params[k] = flat[start:start + n].reshape(probe[k].shape)
        start += n
    try:
        again = build_model(spec, params, opset, dtype)
    except Exception:
        return None
    if not _same_graph(model.graph, again.graph):
        return None
    return stored, params


def _same_graph(a, b) -> bool:
    """The same nodes, initializers (values bit for bit), inputs and outputs."""
    if len(a.node) != len(b.node) or len(a.initializer) != len(b.initializer):
        return False
    if any(x.SerializeToString() != y.SerializeToString() for x, y in zip(a.node, b.node)):
        return False
    for part in ("input", "output"):
        xs, ys = getattr(a, part), getattr(b, part)
        if len(xs) != len(ys) or any(x.SerializeToString() != y.SerializeToString() for x, y in zip(xs, ys)):
            return False
    from onnx import numpy_helper

    ai = {t.name: t for t in a.initializer}
    for t in b.initializer:
        u = ai.get(t.name)
        if u is None or u.data_type != t.data_type or list(u.dims) != list(t.dims):
            return False
        x, y = numpy_helper.to_array(u), numpy_helper.to_array(t)
        if x.tobytes() != y.tobytes():
            return False
    return True
