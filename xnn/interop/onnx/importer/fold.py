"""Constant folding: nodes whose inputs are all constants (or the shape of a known tensor) are
evaluated with ``onnx.reference`` at the file's opset, after their output size is bounded from the
inputs alone (``MAX_FOLDED_BYTES``, and ``_FOLDED_TOTAL`` times that in all). ``ConstantOfShape``
is not evaluated but returned as a read-only broadcast of its value (no memory; not counted in
the total): it is bounded by ``MAX_FOLDED_BYTES`` like any folded constant, and a later fold that
computes from it is bounded by its logical size."""
from __future__ import annotations

import numpy as np

from ....limits import limit
from ..load import _NUMERIC, tensor_array
from .state import SENTINEL, T, State, attrs, err, label


FOLD_OPS = {"Constant", "ConstantOfShape", "Shape", "Cast", "Unsqueeze", "Squeeze", "Concat", "Gather",
            "Slice", "Reshape", "Mul", "Div", "Sub", "Add", "Range", "Expand", "Identity", "Transpose",
            "Size", "Equal", "Where", "Floor", "Ceil", "Neg", "Sqrt", "ReduceProd", "Max", "Min", "Sum",
            "Flatten", "GatherElements"}


def fold(st: State, node, ins: list) -> list[np.ndarray] | None:
    """Evaluate a node whose inputs are all constant (or the shape of a known tensor)."""
    op = node.op_type
    a = attrs(node)
    if op == "Constant":
        if "value" in a:
            return [tensor_array(a["value"], st.path, f"{label(st, node)} value")]
        for k in ("value_float", "value_int"):
            if k in a:
                return [np.array(a[k], dtype=np.float32 if k == "value_float" else np.int64)]
        for k in ("value_floats", "value_ints"):
            if k in a:
                return [np.array(a[k], dtype=np.float32 if k == "value_floats" else np.int64)]
        err(st, node, "unsupported Constant attribute")
    if op == "Shape" and isinstance(ins[0], T):
        shp = np.array(ins[0].onnx_shape(), dtype=np.int64)
        start, end = a.get("start", 0), a.get("end", None)
        return [shp[start:end]]
    si = {"ConstantOfShape": 0, "Expand": 1}.get(op)
    if si is not None and len(ins) > si and isinstance(ins[si], np.ndarray) and np.any(ins[si] == SENTINEL):
        # batch-sized constants (torch's zero initial RNN states): a batch of 1 broadcasts alike
        ins = list(ins)
        ins[si] = np.where(ins[si] == SENTINEL, 1, ins[si]).astype(np.int64)
    if op == "Size" and isinstance(ins[0], T):
        err(st, node, "Size of a batch-dependent tensor cannot be folded")
    if any(isinstance(x, T) for x in ins):
        return None
    size = _fold_bytes(st, node, ins, a)
    cap = limit("MAX_FOLDED_BYTES")
    if size > cap:
        err(st, node, f"constant folding would produce {size} bytes, more than {cap} (XNN_LIMIT_MAX_FOLDED_BYTES)")
    if op == "ConstantOfShape":  # a fill: a read-only broadcast of its one value, nothing allocated
        return [_fill(st, node, ins[0], a)]
    if op not in _VIEW_OPS:
        st.folded += size
        if st.folded > _FOLDED_TOTAL * cap:
            err(st, node, f"constant folding would hold {st.folded} bytes in all, more than {_FOLDED_TOTAL} x {cap} "
                           "(XNN_LIMIT_MAX_FOLDED_BYTES)")
    feeds = {n: v for n, v in zip(node.input, ins) if n}
    return _evaluate(st, node, feeds)


def _fill(st: State, node, shape, a) -> np.ndarray:
    """ConstantOfShape as ``np.broadcast_to`` of its value: a weight written as a fill (the onnx
    package's "light" models hold every weight this way) costs memory only where a layer copies it
    into its parameters, as an initializer of that size would."""
    dims = _fold_dims(st, node, shape, "shape")
    val = a.get("value")
    v = np.zeros((), np.float32) if val is None else tensor_array(val, st.path, f"{label(st, node)} value")
    if v.size != 1:
        err(st, node, f"value must hold one element (received {v.size})")
    return np.broadcast_to(v.reshape(()), dims)


def _evaluate(st: State, node, feeds: dict) -> list[np.ndarray]:
    """Run one node with onnx.reference *at the file's opset* (a one-node model declaring it, so an
    opset-9 Unsqueeze with ``axes`` as an attribute runs the opset-1 kernel, not Unsqueeze-13)."""
    from onnx import helper
    from onnx.reference import ReferenceEvaluator

    ins = [helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(np.asarray(v).dtype), None)
           for n, v in feeds.items()]
    outs = [helper.make_empty_tensor_value_info(o) for o in node.output if o]
    g = helper.make_graph([node], "fold", ins, outs)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", st.opset)])
    ev = ReferenceEvaluator(m)
    return [np.asarray(o) for o in ev.run(None, {n: np.asarray(v) for n, v in feeds.items()})]


_BROADCAST_OPS = {"Mul", "Div", "Sub", "Add", "Equal", "Where", "Max", "Min", "Sum"}


_VIEW_OPS = {"Identity", "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Shape", "Size"}  # no new data


_FOLDED_TOTAL = 4  # all folded constants together: at most this many times MAX_FOLDED_BYTES


def _fold_dims(st, node, v, what: str) -> list[int]:
    """A shape given as a constant input (ConstantOfShape, Expand, Tile): rank and signs checked."""
    v = np.asarray(v)
    if v.ndim > 1 or not (np.issubdtype(v.dtype, np.integer) or v.dtype == bool):
        err(st, node, f"{what} must be a 1-D integer tensor (received {v.dtype} of shape {list(v.shape)})")
    if v.size > limit("MAX_ARRAY_DIMS"):
        err(st, node, f"{what} has {v.size} entries, more than {limit('MAX_ARRAY_DIMS')} (XNN_LIMIT_MAX_ARRAY_DIMS)")
    dims = [int(d) for d in v.reshape(-1)]
    if any(d < 0 for d in dims):
        err(st, node, f"{what} {dims} holds a negative dimension")
    return dims


def _nbytes(dims, itemsize: int) -> int:
    n = itemsize
    for d in dims:
        n *= int(d)
    return n


def _bshape(shapes) -> list[int]:
    """An upper bound of the broadcast of ``shapes`` (numpy rules; mismatches are the evaluator's to refuse)."""
    r = max((len(s) for s in shapes), default=0)
    out = [1] * r
    for s in shapes:
        for i, d in enumerate(s, r - len(s)):
            if d != 1:
                out[i] = d if out[i] == 1 else max(out[i], d)
    return out


def _fold_bytes(st, node, ins, a) -> int:
    """Bytes of the largest output folding ``node`` will produce, computed from the inputs' shapes
    and values alone (nothing is allocated)."""
    op = node.op_type
    arrs = [np.asarray(x) for x in ins if isinstance(x, np.ndarray)]
    isz = max((x.dtype.itemsize for x in arrs), default=8)
    largest = max((x.nbytes for x in arrs), default=0)
    if op == "ConstantOfShape":
        val = a.get("value")
        return _nbytes(_fold_dims(st, node, ins[0], "shape"), _NUMERIC.get(val.data_type, 8) if val is not None else 4)
    if op == "Expand":
        dims = _fold_dims(st, node, ins[1], "shape")
        return _nbytes(_bshape([np.shape(ins[0]), dims]), np.asarray(ins[0]).dtype.itemsize)
    if op == "Tile":
        x, reps = np.asarray(ins[0]), _fold_dims(st, node, ins[1], "repeats")
        if len(reps) != x.ndim:
            err(st, node, f"repeats {reps} do not match the input's rank {x.ndim}")
        return _nbytes([d * r for d, r in zip(x.shape, reps)], x.dtype.itemsize)
    if op == "Range":
        vals = []
        for v in ins[:3]:
            v = np.asarray(v)
            if v.size != 1:
                err(st, node, "start, limit and delta must be scalars")
            vals.append(float(v.reshape(())))
        start, stop, delta = vals
        if delta == 0 or not np.isfinite([start, stop, delta]).all():
            err(st, node, f"Range({start}, {stop}, {delta}) has no finite length")
        n = max(int(np.ceil((stop - start) / delta)), 0)
        return n * np.asarray(ins[0]).dtype.itemsize
    if op in _BROADCAST_OPS:
        return _nbytes(_bshape([x.shape for x in arrs]), isz)
    if op == "Gather" and len(arrs) == 2:
        data, idx = np.asarray(ins[0]), np.asarray(ins[1])
        ax = int(a.get("axis", 0)) % max(data.ndim, 1)
        return _nbytes([*data.shape[:ax], *idx.shape, *data.shape[ax + 1:]], data.dtype.itemsize)
    if op == "Concat":
        return sum(x.nbytes for x in arrs)
    if op == "Cast":
        return max((x.size for x in arrs), default=0) * 8
    if op == "GatherElements" and len(arrs) == 2:
        return np.asarray(ins[1]).size * np.asarray(ins[0]).dtype.itemsize
    return largest  # elementwise, reductions, slices, views: never larger than an input
