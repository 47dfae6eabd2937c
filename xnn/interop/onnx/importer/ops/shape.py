"""Flatten, Reshape, Transpose, Squeeze/Unsqueeze, Concat, Gather: views of xnn tensors, or Flatten,
Reshape, Concatenate, Embedding layers."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..registry import handles
from ..state import SENTINEL, T, add_layer, base_of, err, keep_view, need_const, need_tensor, view_of


def flatten_view(st, node, x: T) -> T:
    """Flatten (N, ...) to (N, F) in ONNX order; an xnn Flatten plus the feature permutation."""
    if x.rank == 2:  # already (N, F): an ONNX Flatten here is xnn's Flatten of a vector (identity)
        return keep_view(add_layer(st, node, "Flatten", {}, [base_of(x)]), x) if node.op_type == "Flatten" else x
    xn = len(x.shape)
    idx = np.arange(int(np.prod(x.shape))).reshape(1, *x.shape)
    perm = view_of(idx, x.axes).reshape(-1)
    if x.perm is not None:
        err(st, node, "flattening a permuted view")
    if xn == 1:
        y = T(x.node, x.shape, (0, 1))
    else:
        y = add_layer(st, node, "Flatten", {}, [base_of(x)])
    if not np.array_equal(perm, np.arange(perm.size)):
        y.perm = perm
    return y


@handles("Flatten", xnn="Flatten (+ a feature permutation)", notes="axis=1")
def _flatten(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    ax = int(a.get("axis", 1)) % max(x.rank, 1)
    if ax != 1:
        err(st, node, f"Flatten(axis={ax}) would merge the batch axis; only axis=1 is supported")
    return flatten_view(st, node, x)


@handles("Reshape", xnn="Flatten, Reshape, or a view", glue=True)
def _reshape(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    shp = [int(v) for v in need_const(st, node, ins[1], "shape").reshape(-1)]
    if x.rnn is not None or x.split is not None or (0 in x.axes and x.axes[0] != 0):
        from .rnn import reshape_view

        y = reshape_view(st, node, x, shp, bool(a.get("allowzero", 0)))
        if y is not None:
            return y
        from .rnn import consume  # not glue: a layer reads the RNN output

        consume(st, node, x)
        x = T(x.node, x.shape, x.axes, x.perm)
    src = x.onnx_shape()
    size = int(np.prod(x.shape))
    if not shp:
        err(st, node, "reshape to a scalar")
    if SENTINEL in shp[1:]:
        err(st, node, "the batch size must stay the first axis")
    tail = [src[i + 1] if (v == 0 and not a.get("allowzero", 0) and i + 1 < len(src)) else v
            for i, v in enumerate(shp[1:])]
    known = int(np.prod([v for v in tail if v != -1])) if tail else 1
    if tail.count(-1) == 1:
        tail = [size // known if v == -1 else v for v in tail]
    if int(np.prod(tail)) != size or tail.count(-1) > 1:
        err(st, node, f"cannot keep the batch axis: per-sample size {size} vs target {shp}")
    if shp[0] not in (0, -1, SENTINEL) and shp[0] <= 0:
        err(st, node, f"bad batch entry {shp[0]} in the target shape")
    if len(tail) == 1:
        return flatten_view(st, node, x)
    if tail == src[1:]:
        return x
    if not x.plain():
        err(st, node, "reshaping a channels-first view into a new rank has no xnn equivalent")
    return add_layer(st, node, "Reshape", {"target_shape": tail}, [base_of(x)])


@handles("Transpose", xnn="(a view)", glue=True)
def _transpose(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    perm = list(a.get("perm", list(range(x.rank))[::-1]))
    # the batch axis may move (time-major RNN inputs): layers refuse such views (need_tensor)
    if x.perm is not None and x.rank == 2 and perm == [0, 1]:
        return x
    if x.perm is not None and perm[0] != 0:
        err(st, node, "a Transpose that moves the batch axis of a permuted feature vector")
    return replace(x, axes=tuple(x.axes[p] for p in perm))


@handles("Squeeze", xnn="(a view)", glue=True, notes="unit axes")
def _squeeze(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    axes = a.get("axes")
    if len(ins) > 1 and ins[1] is not None:
        axes = need_const(st, node, ins[1], "axes").astype(int).tolist()
    if axes is None:
        axes = [i for i, v in enumerate(x.onnx_shape()) if v == 1]
    axes = {int(v) % x.rank for v in axes}
    if any(x.axes[i] is not None for i in axes):
        err(st, node, "squeezing an axis of the xnn tensor (only inserted unit axes can go)")
    return replace(x, axes=tuple(v for i, v in enumerate(x.axes) if i not in axes))


@handles("Unsqueeze", xnn="(a view)", glue=True)
def _unsqueeze(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    axes = a.get("axes")
    if len(ins) > 1 and ins[1] is not None:
        axes = need_const(st, node, ins[1], "axes").astype(int).tolist()
    r = x.rank + len(axes)
    axes = sorted(int(v) % r for v in axes)
    out = list(x.axes)
    for i in axes:
        out.insert(i, None)
    return replace(x, axes=tuple(out))


@handles("Concat", xnn="Concatenate")
def _concat(st, node, ins, a):
    ts = [v for v in ins if v is not None]
    if not all(isinstance(t, T) for t in ts):
        err(st, node, "concatenating a constant with a computed tensor")
    x0 = ts[0]
    for t in ts:
        if t.axes != x0.axes or t.perm is not None or t.pads:
            err(st, node, "inputs are different (or permuted) views of xnn tensors")
    ax = x0.axes[int(a["axis"]) % x0.rank]
    if ax is None or ax == 0:
        err(st, node, "concatenating along the batch or a unit axis")
    y = add_layer(st, node, "Concatenate", {"axis": int(ax - (len(x0.shape) + 1))}, [base_of(t) for t in ts])
    return T(y.node, y.shape, x0.axes)


@handles("Gather", xnn="Embedding (or a step of an RNN output)", glue=True)
def _gather(st, node, ins, a):
    w, idx = ins[0], ins[1]
    if isinstance(w, T):  # a step / direction / unit axis picked out of an RNN output
        from .rnn import gather_view

        return gather_view(st, node, w, need_const(st, node, idx, "indices"), int(a.get("axis", 0)))
    if not isinstance(w, np.ndarray) or not isinstance(idx, T) or int(a.get("axis", 0)) != 0 or w.ndim != 2:
        err(st, node, "only Gather(constant 2-D table, indices from the input, axis=0) (an embedding) is supported")
    if not idx.plain() or not idx.int_input:
        err(st, node, "embedding indices must be the integer graph input")
    return add_layer(st, node, "Embedding", {"num_embeddings": int(w.shape[0]), "dim": int(w.shape[1])}, [base_of(idx)],
                {"weight": w})
