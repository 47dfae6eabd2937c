"""Flatten, Reshape, Transpose, Squeeze/Unsqueeze, Concat, Gather, Slice: views of xnn tensors, or
Flatten, Reshape, Concatenate, Embedding, Cropping1D/2D layers."""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..registry import handles
from ..state import SENTINEL, T, add_layer, attrs, base_of, err, keep_view, need_const, need_tensor, view_of


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


def _resolve(st, src: list[int], target: list[int], allowzero: bool) -> list[int] | None:
    """A Reshape target with 0 (copy) and -1 (the rest) resolved against ONNX shape ``src`` and the
    batch axis kept first (as SENTINEL); None when it does not keep the batch axis."""
    t = [src[j] if v == 0 and not allowzero and j < len(src) else v for j, v in enumerate(target)]
    if not t or not (t[0] in (SENTINEL, -1) or (st.batch is not None and t[0] == st.batch)):
        return None
    t[0] = SENTINEL
    if SENTINEL in t[1:] or t[1:].count(-1) > 1:
        return None
    size = int(np.prod([v for v in src[1:]]))
    known = int(np.prod([v for v in t[1:] if v != -1]))
    if -1 in t[1:]:
        if known <= 0 or size % known:
            return None
        t = [size // known if v == -1 else v for v in t]
    return t if int(np.prod(t[1:])) == size else None


def _shuffle_reshape(st, node, x: T, target: list[int], allowzero: bool) -> T | None:
    """ShuffleNet's channel shuffle as Reshape (the channel axis split into (g, C/g)), Transpose (the
    two swapped), Reshape (merged back): the first Reshape gives a split view, the last a
    ChannelShuffle layer (or nothing when the two axes were not swapped); None for other reshapes."""
    src = x.onnx_shape()
    t = _resolve(st, src, target, allowzero)
    if x.shuffle:
        _, g, _, swapped = x.shuffle
        base = replace(x, shuffle=None)
        if t is None or t != base.onnx_shape():
            err(st, node, f"merges the channel groups of a split channel axis into {target[1:]}, not back into "
                           f"{base.onnx_shape()[1:]}; xnn imports only a channel shuffle")
        if not swapped:
            return base
        y = add_layer(st, node, "ChannelShuffle", {"groups": int(g)}, [base_of(base)])
        return T(y.node, y.shape, base.axes)
    if t is None or x.perm is not None or x.split or x.pads or x.rnn or len(t) != len(src) + 1:
        return None
    ch = len(x.shape)
    if ch not in x.axes or len(x.shape) > 3:
        return None
    i = x.axes.index(ch)
    if t[:i] != src[:i] or t[i + 2:] != src[i + 1:] or t[i] * t[i + 1] != src[i] or t[i] < 1 or t[i + 1] < 1:
        return None
    readers = st.readers.get(node.output[0], [])  # only when a Transpose of the two halves reads it
    swap = list(range(len(t)))
    swap[i], swap[i + 1] = i + 1, i
    if len(readers) != 1 or readers[0].op_type != "Transpose" or \
            list(attrs(readers[0]).get("perm", [])) != swap:
        return None
    after = st.readers.get(readers[0].output[0], [])  # and a Reshape reads that Transpose only
    if len(after) != 1 or after[0].op_type != "Reshape":
        return None
    back = st.consts.get(after[0].input[1]) if len(after[0].input) > 1 else None
    if back is not None and _resolve(st, [*src[:i], t[i + 1], t[i], *src[i + 1:]],
                                     [int(v) for v in np.asarray(back).reshape(-1)], allowzero) != src:
        return None  # a known target that is not the merge back
    return replace(x, shuffle=(i, int(t[i]), int(t[i + 1]), False))


def _unit_axes_moved(x: T, src: list[int], tail: list[int]) -> T | None:
    """A Reshape that only moves size-1 axes (the other sizes in the same order, the same rank) is
    a Transpose: a view (tf2onnx writes a one-channel NHWC -> NCHW Transpose as such a Reshape)."""
    if x.perm is not None or x.pads or x.split or x.rnn or len(tail) != len(src) - 1 or 1 not in tail:
        return None
    if [v for v in src[1:] if v != 1] != [v for v in tail if v != 1]:
        return None
    big = iter([a for a, v in zip(x.axes[1:], src[1:]) if v != 1])
    unit = iter([a for a, v in zip(x.axes[1:], src[1:]) if v == 1])
    return replace(x, axes=(x.axes[0], *(next(unit) if v == 1 else next(big) for v in tail)))


@handles("Reshape", xnn="Flatten, Reshape, ChannelShuffle (Reshape, Transpose, Reshape), or a view", glue=True)
def _reshape(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    shp = [int(v) for v in need_const(st, node, ins[1], "shape").reshape(-1)]
    if x.rnn is None and x.split is None:
        y = _shuffle_reshape(st, node, x, shp, bool(a.get("allowzero", 0)))
        if y is not None:
            return y
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
    y = _unit_axes_moved(x, src, tail)
    if y is not None:
        return y
    if not x.plain():
        err(st, node, "reshaping a channels-first view into a new rank has no xnn equivalent")
    return add_layer(st, node, "Reshape", {"target_shape": tail}, [base_of(x)])


@handles("Transpose", xnn="(a view)", glue=True)
def _transpose(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    perm = list(a.get("perm", list(range(x.rank))[::-1]))
    if x.shuffle:  # the channel shuffle's Transpose: only the two split axes swap
        i, g, c, swapped = x.shuffle
        want = list(range(x.rank))
        want[i], want[i + 1] = i + 1, i
        if perm != want:
            err(st, node, f"perm {perm} moves more than the two halves of a split channel axis; xnn imports a "
                           "split channel axis only as a channel shuffle")
        return replace(x, shuffle=(i, g, c, not swapped))
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


_INT_MAX = 2**31 - 1  # exporters write INT_MAX / INT64_MAX for "to the end"


def _slice_args(st, node, ins, a):
    if st.opset >= 10:
        starts = need_const(st, node, ins[1], "starts").astype(np.int64).reshape(-1).tolist()
        ends = need_const(st, node, ins[2], "ends").astype(np.int64).reshape(-1).tolist()
        axes = ins[3] if len(ins) > 3 and ins[3] is not None else None
        axes = None if axes is None else need_const(st, node, axes, "axes").astype(np.int64).reshape(-1).tolist()
        steps = ins[4] if len(ins) > 4 and ins[4] is not None else None
        steps = [1] * len(starts) if steps is None else need_const(st, node, steps, "steps").astype(np.int64).reshape(-1).tolist()
    else:
        starts, ends = list(a.get("starts", [])), list(a.get("ends", []))
        axes, steps = a.get("axes"), [1] * len(starts)
    axes = list(range(len(starts))) if axes is None else list(axes)
    if not (len(starts) == len(ends) == len(axes) == len(steps)):
        err(st, node, f"starts {starts}, ends {ends}, axes {axes} and steps {steps} differ in length")
    return [int(v) for v in starts], [int(v) for v in ends], [int(v) for v in axes], [int(v) for v in steps]


@handles("Slice", xnn="Cropping1D/2D", notes="starts/ends as attributes; a crop of spatial axes")
def _slice1(st, node, ins, a):
    return _slice(st, node, ins, a)


@handles("Slice", since=10, xnn="Cropping1D/2D (or the last step of an RNN output)", glue=True,
         notes="a crop of spatial axes (step 1); other axes kept whole")
def _slice(st, node, ins, a):
    """A Slice of a computed tensor that keeps the batch, channel and unit axes whole and takes a
    contiguous range of each spatial axis: Cropping1D/2D (the identity when it takes everything).
    The last time step of an RNN sequence view is xnn's ``output: last`` (``rnn.slice_view``)."""
    from .rnn import consume, slice_view

    x = need_tensor(st, node, ins[0])
    starts, ends, axes, steps = _slice_args(st, node, ins, a)
    y = slice_view(st, node, x, starts, ends, axes, steps)
    if y is not None:
        return y
    consume(st, node, x)  # registered as glue for the view above: any other Slice is a layer's read
    if x.perm is not None:
        err(st, node, "slicing a permuted feature vector")
    r = x.rank
    nd = len(x.shape) - 1
    crop = [(0, 0)] * nd
    seen = set()
    for b, e, ax, step in zip(starts, ends, axes, steps):
        i = ax % r
        if i in seen:
            err(st, node, f"axis {ax} is sliced twice")
        seen.add(i)
        xa = x.axes[i]
        if xa == 0:  # the batch: only a slice that keeps it whole
            if step != 1 or not (b == 0 or b <= -_INT_MAX) or e < _INT_MAX:
                err(st, node, "slicing the batch axis is not an xnn layer")
            continue
        n = 1 if xa is None else x.shape[xa - 1]
        if step != 1:
            err(st, node, f"a Slice with step {step} (a strided subsample) is not an xnn layer")
        lo = min(max(b + n if b < 0 else b, 0), n)
        hi = min(max(e + n if e < 0 else e, 0), n)
        if hi <= lo:
            err(st, node, f"the slice [{b}:{e}] of axis {ax} (size {n}) is empty")
        if (lo, hi) == (0, n):
            continue
        if xa is None or xa == nd + 1:
            err(st, node, f"slicing {'the channel axis' if xa else 'an inserted unit axis'} is not an xnn layer")
        crop[xa - 1] = (lo, n - hi)
    if all(c == (0, 0) for c in crop):
        return x
    if nd not in (1, 2):
        err(st, node, f"cropping a tensor with {nd} spatial axes is not an xnn layer (Cropping1D/2D)")
    from .conv import edge_field

    y = add_layer(st, node, f"Cropping{nd}D", {"cropping": edge_field(crop)}, [base_of(x)])
    return T(y.node, y.shape, x.axes)
