"""Import an ONNX graph into an xnn spec dict + canonical weights.

Reads graphs written by xnn itself, ``torch.onnx.export`` (TorchScript and dynamo), Keras's ONNX
export and MATLAB's exporter, opset 7 and newer: Gemm / MatMul(+Add), Conv (+ a preceding zero
Pad), BatchNormalization, MaxPool / AveragePool / GlobalAveragePool / ReduceMean, Flatten /
Reshape, the activations, Add / Sum, Concat, Gather (embedding), LayerNormalization, Dropout,
and Transpose / Squeeze / Unsqueeze at layout boundaries. Constant subgraphs (Constant,
ConstantOfShape, Shape -> Gather -> Concat chains feeding Reshape) are folded first. ONNX
``LSTM``/``GRU`` (and the Transpose/Reshape/Squeeze glue around them) import in ``import_rnn``.

Layout. xnn's input is channels-last: an ONNX input consumed by channels-first ops (Conv,
pools, BatchNormalization) is ``(N, C, *S)`` and becomes xnn ``(*S, C)``. Every ONNX tensor is
tracked as a *view* of an xnn tensor: ``axes[i]`` is the xnn batch axis that ONNX axis ``i``
holds (None for an inserted unit axis), so Transposes at layout boundaries become no layers at
all, and a Flatten of a channels-first tensor yields features in ONNX order ``(C, H, W)``
while xnn's Flatten gives ``(H, W, C)``: the permutation is recorded and folded into the
weights of the next Gemm/MatMul (its columns are permuted), so the imported model computes the
same function on channels-last data.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ...errors import FormatError, XnnError
from ...limits import limit
from .load import _NUMERIC, load_onnx, tensor_array

SENTINEL = -(2**40) - 7  # stands for the (dynamic) batch size inside folded shape arithmetic
_NAME_RE = re.compile(r"[^A-Za-z0-9_]")

# ops that only ever run on constants here (shape arithmetic); folded, never turned into layers
FOLD_OPS = {"Constant", "ConstantOfShape", "Shape", "Cast", "Unsqueeze", "Squeeze", "Concat", "Gather",
            "Slice", "Reshape", "Mul", "Div", "Sub", "Add", "Range", "Expand", "Identity", "Transpose",
            "Size", "Equal", "Where", "Floor", "Ceil", "Neg", "Sqrt", "ReduceProd", "Max", "Min", "Sum",
            "Flatten", "GatherElements"}
# ops that turn into layers (or views of xnn tensors)
LAYER_OPS = {"Gemm", "MatMul", "Add", "Sum", "Conv", "BatchNormalization", "MaxPool", "AveragePool",
             "GlobalAveragePool", "ReduceMean", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze",
             "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Elu", "Gelu", "Softmax", "Identity", "Dropout",
             "Concat", "Gather", "Pad", "LayerNormalization", "Mul", "LSTM", "GRU", "ReduceSum"}
_CF_OPS = {"Conv", "MaxPool", "AveragePool", "GlobalAveragePool", "BatchNormalization"}
_PASS_OPS = {"Identity", "Dropout", "Pad", "Cast"}
# ops that only re-view a tensor: they may read time-major or per-direction RNN views
_GLUE_OPS = {"Transpose", "Squeeze", "Unsqueeze", "Reshape", "Identity", "Gather", "ReduceSum", "LSTM", "GRU"}


@dataclass
class T:
    """An ONNX tensor seen as a view of xnn node ``node``'s output.

    ``shape``: xnn per-sample shape (channels-last). ``axes[i]``: the xnn batch axis ONNX axis i
    holds (None: an inserted unit axis). ``perm`` (rank-1 xnn tensors): ONNX feature j is xnn
    feature ``perm[j]``. ``pads``: a pending zero Pad (ONNX spatial axes, (lo, hi)) for a Conv.
    """

    node: str
    shape: tuple
    axes: tuple
    perm: np.ndarray | None = None
    pads: list | None = None
    int_input: bool = False
    # RNN outputs (see import_rnn): ``split`` = (D, H) when the node's last axis is seen as two
    # virtual axes (direction, hidden); ``rnn`` = (mode, num_layers, merge) the view stands for
    split: tuple | None = None
    rnn: tuple | None = None

    @property
    def rank(self) -> int:
        return len(self.axes)

    def onnx_shape(self) -> list[int]:
        return [SENTINEL if a == 0 else (1 if a is None else self.shape[a - 1]) for a in self.axes]

    def plain(self) -> bool:
        return self.axes == tuple(range(len(self.shape) + 1)) and self.perm is None

    def cf(self) -> bool:
        r = len(self.shape) + 1
        return r >= 3 and self.axes == (0, r - 1, *range(1, r - 1)) and self.pads is None


def _view(arr: np.ndarray, axes: tuple) -> np.ndarray:
    """The ONNX view of an xnn-layout array ``arr`` (batch first) under ``axes``."""
    v = arr.transpose([a for a in axes if a is not None])
    for i, a in enumerate(axes):
        if a is None:
            v = np.expand_dims(v, i)
    return v


@dataclass
class _State:
    path: str
    opset: int
    consts: dict = field(default_factory=dict)
    tens: dict = field(default_factory=dict)
    layers: list = field(default_factory=list)
    params: dict = field(default_factory=dict)
    names: set = field(default_factory=lambda: {"input"})
    uses: dict = field(default_factory=dict)
    bias_slot: dict = field(default_factory=dict)  # tensor -> index of a bias-less Dense/Conv layer
    shapes: dict = field(default_factory=dict)  # xnn node -> per-sample shape
    sigmoid_of: dict = field(default_factory=dict)  # sigmoid output tensor -> (layer index, input node)
    rnn: dict = field(default_factory=dict)  # xnn LSTM/GRU node -> import_rnn.RnnInfo
    batch: int | None = None  # the input's static batch size, if the file fixes one
    index: dict = field(default_factory=dict)  # _key(node) -> its index in graph.node (for messages)
    nonneg: set = field(default_factory=set)  # xnn nodes whose outputs are known to be >= 0
    folded: int = 0  # bytes of every constant computed by folding so far (bounded)


def import_onnx(path: str | Path) -> tuple[dict, dict[str, np.ndarray]]:
    """Read ``path`` into ``(spec_dict, params)``: a spec (channels-last input) and canonical
    float64 weights ``<node>.<param>``. Raises FormatError naming the file: unreadable, hostile
    or unsupported operators (all of them listed at once, with the opset).
    """
    model = load_onnx(path)
    try:
        return _import(model, str(path))
    except XnnError:
        raise
    except Exception as e:  # a malformed graph must end in a clear error, never a traceback
        raise FormatError(f"{path}: cannot import ({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''})") from None


def _opset(model) -> int:
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            return int(o.version)
    return 0


def _attrs(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def _import(model, path: str):
    graph = model.graph
    opset = _opset(model)
    if opset < 7:
        raise FormatError(f"{path}: opset {opset} is older than 7, the oldest xnn reads")
    st = _State(path, opset)
    for t in graph.initializer:
        st.consts[t.name] = tensor_array(t, path, f"initializer {t.name!r}")
    needed = _needed(graph)
    bad: dict[str, list[str]] = {}
    st.index = {_key(n): i for i, n in enumerate(graph.node)}
    nodes = [n for i, n in enumerate(graph.node) if i in needed]  # dead branches are ignored
    for n in nodes:
        if n.domain not in ("", "ai.onnx"):
            bad.setdefault(f"{n.domain}::{n.op_type}", []).append(_short(st, n, quote=False))
        elif n.op_type not in LAYER_OPS | FOLD_OPS:
            bad.setdefault(n.op_type, []).append(_short(st, n, quote=False))
    if bad:
        raise FormatError([f"unsupported ONNX operator {op} (opset {opset}) at {', '.join(ns[:3])}"
                           + (f" and {len(ns) - 3} more" if len(ns) > 3 else "") for op, ns in bad.items()],
                          source=path)
    real_inputs = [i for i in graph.input if i.name not in st.consts]
    if len(real_inputs) != 1:
        raise FormatError(f"{path}: xnn imports graphs with one input (found {len(real_inputs)})")
    if len(graph.output) != 1:
        raise FormatError(f"{path}: xnn imports graphs with one output (found {len(graph.output)})")
    inp = real_inputs[0]
    spec_input = _input(st, graph, inp)
    for n in nodes:
        for x in n.input:
            st.uses[x] = st.uses.get(x, 0) + 1
    for n in nodes:
        _node(st, n)
    out = st.tens.get(graph.output[0].name)
    if out is None or out.node == "input":
        raise FormatError(f"{path}: the graph output is a constant or the input itself; nothing to import")
    from .import_rnn import consume_output

    consume_output(st, out, graph.output[0].name)
    if out.pads is not None:
        raise FormatError(f"{path}: the graph ends in a Pad, which xnn has no layer for")
    if st.layers[-1]["name"] != out.node:
        raise FormatError(f"{path}: the graph output is not its last computed tensor")
    _keep_output_rank(st, out)
    name = _NAME_RE.sub("_", graph.name or "imported")[:63] or "imported"
    spec = {"xnn": 1, "name": name, "input": spec_input, "model": st.layers}
    train = _fitting_loss(st)
    if train:
        spec["train"] = train
    from ...errors import SpecError
    from ...spec import from_dict
    from ...weights import check_params

    try:
        s = from_dict(spec)
        check_params(st.params, s, source=path)
    except SpecError as e:
        raise FormatError([f"imported graph is not a valid xnn model: {m}" for m in e.messages], source=path) from None
    return spec, {k: np.asarray(v, dtype=np.float64) for k, v in st.params.items()}


def _keep_output_rank(st: _State, out: T) -> None:
    """A graph output that is a unit-axis view of the last xnn tensor (SqueezeNet's ``(N, 1000, 1, 1)``
    after GlobalAveragePool) keeps its ONNX rank: a Reshape to the ONNX per-sample shape, exact
    because the values are in the same order. Channels-first outputs stay channels-last (documented)."""
    real = [a for a in out.axes if a is not None]
    if out.perm is not None or out.split is not None or len(real) == len(out.axes):
        return
    if real != list(range(len(real))):
        return  # a channels-first view: the output is channels-last (as for any cf output)
    target = [int(v) for v in out.onnx_shape()[1:]]
    name = _fresh(st, f"{out.node}_to_onnx_shape")
    st.layers.append({"type": "Reshape", "name": name, "target_shape": target})
    st.shapes[name] = tuple(target)


def _fitting_loss(st: _State) -> dict | None:
    """A training section whose loss fits the imported output, or None to keep the spec's default
    (cross_entropy): an ONNX file holds no loss, and the default must not make a valid model invalid
    (a one-channel output cannot be a class distribution)."""
    last = st.layers[-1]
    width = st.shapes[last["name"]][-1] if st.shapes[last["name"]] else 1
    if width >= 2:
        return None
    if last["type"] == "Activation" and last.get("fn") == "sigmoid":
        return {"loss": "binary_cross_entropy"}
    return {"loss": "mse", "metrics": ["mse"]}


def _needed(graph) -> set:
    """Indices of the nodes the graph output depends on."""
    producer = {o: i for i, n in enumerate(graph.node) for o in n.output}
    nodes = list(graph.node)
    seen: set = set()
    stack = [o.name for o in graph.output]
    done: set = set()
    while stack:
        t = stack.pop()
        if t in done:
            continue
        done.add(t)
        i = producer.get(t)
        if i is not None and i not in seen:
            seen.add(i)
            stack.extend(x for x in nodes[i].input if x)
    return seen


def _input(st: _State, graph, inp) -> dict:
    """The xnn input section; the input tensor's view (channels-first if conv-like ops read it)."""
    from onnx import TensorProto

    tt = inp.type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
    if len(dims) < 2 or any(d is None or d <= 0 for d in dims[1:]):
        raise FormatError(f"{st.path}: input {inp.name!r} needs a static per-sample shape (received {dims})")
    dtype = {TensorProto.FLOAT: "float32", TensorProto.DOUBLE: "float64", TensorProto.INT64: "int64",
             TensorProto.INT32: "int32"}.get(tt.elem_type)
    if dtype is None:
        raise FormatError(f"{st.path}: input element type {tt.elem_type} is not float32/float64/int64/int32")
    _check_size(st, f"input {inp.name!r}", dims[1:])
    r = len(dims)
    cf = r >= 3 and _consumed_channels_first(graph, inp.name)
    if cf:
        shape = (*dims[2:], dims[1])
        axes = (0, r - 1, *range(1, r - 1))
    else:
        shape = tuple(dims[1:])
        axes = tuple(range(r))
    st.tens[inp.name] = T("input", shape, axes, int_input=dtype.startswith("int"))
    st.batch = dims[0]
    st.shapes["input"] = shape
    return {"shape": list(shape), "dtype": dtype}


def _consumed_channels_first(graph, name: str) -> bool:
    """True when a Conv/pool/BatchNormalization reads the input (through Identity/Pad/Dropout)."""
    readers: dict[str, list] = {}
    for n in graph.node:  # one pass: a long chain of Identity nodes stays linear
        for x in set(n.input):
            readers.setdefault(x, []).append(n)
    frontier, seen = [name], set()
    while frontier:
        t = frontier.pop()
        if t in seen:
            continue
        seen.add(t)
        for n in readers.get(t, ()):
            if n.op_type in _CF_OPS:
                return True
            if n.op_type in _PASS_OPS:
                frontier.extend(n.output)
    return False


def _check_size(st: _State, what: str, shape) -> None:
    """Refuse a per-sample shape whose float64 array would exceed MAX_ARRAY_BYTES (or rank MAX_ARRAY_DIMS)."""
    if len(shape) + 1 > limit("MAX_ARRAY_DIMS"):
        raise FormatError(f"{what}: rank {len(shape) + 1} exceeds {limit('MAX_ARRAY_DIMS')} (XNN_LIMIT_MAX_ARRAY_DIMS)",
                          source=st.path)
    n = 1
    for d in shape:
        n *= int(d)
    if n * 8 > limit("MAX_ARRAY_BYTES"):
        raise FormatError(f"{what}: per-sample shape {list(shape)} ({n} values, {n * 8} bytes as float64) exceeds "
                          f"{limit('MAX_ARRAY_BYTES')} bytes (XNN_LIMIT_MAX_ARRAY_BYTES)", source=st.path)


# --------------------------------------------------------------------------- helpers
def _short(st: _State, node, quote: bool = True) -> str:
    """A node as messages name it: its name (shortened), else ``#<index>`` in the graph."""
    if node.name:
        name = node.name if len(node.name) <= 80 else node.name[:77] + "..."
        return repr(name) if quote else name
    i = st.index.get(_key(node))
    return f"#{i}" if i is not None else "(unnamed)"


def _key(node) -> tuple:
    """A node's identity for messages (protobuf hands out new wrapper objects on each access)."""
    return (node.op_type, tuple(node.input), tuple(node.output))


def label(st: _State, node) -> str:
    """``node 'conv1' (Conv)`` or, for a node without a name, ``node #12 (Conv)``."""
    return f"node {_short(st, node)} ({node.op_type[:40]})"


def _err(st: _State, node, msg: str):
    raise FormatError(f"{label(st, node)}: {msg}", source=st.path)


def _hint(node) -> str:
    """A layer name from an ONNX node: ``/fc1/Gemm`` or ``fc1/Gemm`` -> ``fc1``, else its output."""
    if node.name:
        parts = [p for p in node.name.split("/") if p]
        if len(parts) > 1 and parts[-1].split("_")[0] == node.op_type:
            parts = parts[:-1]
        if parts:
            return "_".join(parts)
    return node.output[0]


def _rename(st: _State, idx: int, hint: str) -> str:
    """Rename layer ``idx`` (not read by any layer yet) to a fresh name from ``hint``."""
    old = st.layers[idx]["name"]
    new = _fresh(st, hint)
    st.layers[idx]["name"] = new
    st.shapes[new] = st.shapes.pop(old)
    for k in [k for k in st.params if k.startswith(old + ".")]:
        st.params[new + k[len(old):]] = st.params.pop(k)
    st.names.discard(old)
    return new


def _fresh(st: _State, hint: str) -> str:
    base = _NAME_RE.sub("_", hint).strip("_")
    base = re.sub(r"_output_0$", "", base) or "node"
    if not re.match(r"[A-Za-z_]", base):
        base = "n_" + base
    base = base[:56]
    name, i = base, 1
    while name in st.names:
        i += 1
        name = f"{base}_{i}"
    st.names.add(name)
    return name


def _add(st: _State, node, kind: str, fields: dict, ins: list[T], params: dict | None = None,
         name: str | None = None) -> T:
    """Append an xnn layer reading ``ins`` (plain xnn tensors); returns its plain output view."""
    from ...spec.registry import resolve_type

    name = name or _fresh(st, _hint(node))
    from pydantic import ValidationError

    from ...spec.layer import ShapeError

    cls, fixed = resolve_type(kind)
    try:
        layer = cls.model_validate({"type": kind, "name": name, **fields, **fixed})
        out = tuple(int(d) for d in layer.infer([st.shapes[t.node] for t in ins]))
    except ValidationError as e:
        bad = e.errors()[0]
        where = ".".join(map(str, bad.get("loc", ()))) or kind
        _err(st, node, f"becomes an xnn {kind} with an invalid {where}: {bad.get('msg', '')[:160]}")
    except ShapeError as e:
        _err(st, node, f"becomes an xnn {kind} that cannot take its input: {str(e).splitlines()[0][:200]}")
    _check_size(st, label(st, node), out)
    entry = {"type": kind, "name": name, **fields}
    prev = st.layers[-1]["name"] if st.layers else "input"
    if [t.node for t in ins] != [prev]:
        entry["inputs"] = [t.node for t in ins]
    st.layers.append(entry)
    st.shapes[name] = out
    if _keeps_sign(kind, fields) and all(t.node in st.nonneg for t in ins):
        st.nonneg.add(name)
    elif kind == "Activation" and fields.get("fn") in ("relu", "sigmoid", "softmax"):
        st.nonneg.add(name)
    for k, v in (params or {}).items():
        st.params[f"{name}.{k}"] = np.asarray(v, dtype=np.float64)
    return T(name, out, tuple(range(len(out) + 1)))


def _keeps_sign(kind: str, fields: dict) -> bool:
    """Layers whose outputs are >= 0 when all their inputs are (used to prove zero padding exact)."""
    return kind.startswith(("MaxPool", "AvgPool", "GlobalAvgPool")) or kind in (
        "Dropout", "Flatten", "Reshape", "Concatenate", "Add") or (
        kind == "Activation" and fields.get("fn") in ("relu", "leaky_relu", "elu", "gelu", "gelu_tanh", "tanh"))


def _get(st: _State, name: str):
    """A constant (ndarray), a tensor view (T), or None for an omitted optional input."""
    if name == "":
        return None
    if name in st.consts:
        return st.consts[name]
    return st.tens[name]


def _f32(v) -> float:
    """A float attribute (stored as float32) as the shortest decimal that round-trips (0.2, not 0.2000000029)."""
    return float(str(np.float32(v)))


def _const(st, node, v, what: str) -> np.ndarray:
    if not isinstance(v, np.ndarray):
        _err(st, node, f"{what} must be a constant (an initializer or a folded constant subgraph)")
    return v


def _tensor(st, node, v, what: str = "input") -> T:
    if not isinstance(v, T):
        _err(st, node, f"{what} must be computed from the graph input")
    if v.pads is not None and node.op_type not in ("Conv", "Identity"):
        _err(st, node, "a Pad is only supported right before a Conv")
    return v


def _need_cf(st, node, t: T):
    if not t.cf():
        _err(st, node, "expects a channels-first tensor (N, C, *spatial) of the xnn graph "
                       f"(received a view with axes {list(t.axes)})")


# --------------------------------------------------------------------------- folding
def _fold(st: _State, node, ins: list) -> list[np.ndarray] | None:
    """Evaluate a node whose inputs are all constant (or the shape of a known tensor)."""
    op = node.op_type
    a = _attrs(node)
    if op == "Constant":
        if "value" in a:
            return [tensor_array(a["value"], st.path, f"{label(st, node)} value")]
        for k in ("value_float", "value_int"):
            if k in a:
                return [np.array(a[k], dtype=np.float32 if k == "value_float" else np.int64)]
        for k in ("value_floats", "value_ints"):
            if k in a:
                return [np.array(a[k], dtype=np.float32 if k == "value_floats" else np.int64)]
        _err(st, node, "unsupported Constant attribute")
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
        _err(st, node, "Size of a batch-dependent tensor cannot be folded")
    if any(isinstance(x, T) for x in ins):
        return None
    size = _fold_bytes(st, node, ins, a)
    cap = limit("MAX_FOLDED_BYTES")
    if size > cap:
        _err(st, node, f"constant folding would produce {size} bytes, more than {cap} (XNN_LIMIT_MAX_FOLDED_BYTES)")
    if op not in _VIEW_OPS:
        st.folded += size
        if st.folded > _FOLDED_TOTAL * cap:
            _err(st, node, f"constant folding would hold {st.folded} bytes in all, more than {_FOLDED_TOTAL} x {cap} "
                           "(XNN_LIMIT_MAX_FOLDED_BYTES)")
    feeds = {n: v for n, v in zip(node.input, ins) if n}
    return _evaluate(st, node, feeds)


def _evaluate(st: _State, node, feeds: dict) -> list[np.ndarray]:
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
        _err(st, node, f"{what} must be a 1-D integer tensor (received {v.dtype} of shape {list(v.shape)})")
    if v.size > limit("MAX_ARRAY_DIMS"):
        _err(st, node, f"{what} has {v.size} entries, more than {limit('MAX_ARRAY_DIMS')} (XNN_LIMIT_MAX_ARRAY_DIMS)")
    dims = [int(d) for d in v.reshape(-1)]
    if any(d < 0 for d in dims):
        _err(st, node, f"{what} {dims} holds a negative dimension")
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
            _err(st, node, f"repeats {reps} do not match the input's rank {x.ndim}")
        return _nbytes([d * r for d, r in zip(x.shape, reps)], x.dtype.itemsize)
    if op == "Range":
        vals = []
        for v in ins[:3]:
            v = np.asarray(v)
            if v.size != 1:
                _err(st, node, "start, limit and delta must be scalars")
            vals.append(float(v.reshape(())))
        start, stop, delta = vals
        if delta == 0 or not np.isfinite([start, stop, delta]).all():
            _err(st, node, f"Range({start}, {stop}, {delta}) has no finite length")
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


# --------------------------------------------------------------------------- nodes
def _node(st: _State, node) -> None:
    ins = [_get(st, x) for x in node.input]
    if not any(isinstance(x, T) for x in ins) or node.op_type in ("Shape", "Size"):
        outs = _fold(st, node, ins)
        if outs is not None:
            for o, v in zip(node.output, outs):
                st.consts[o] = v
            return
    fn = _HANDLERS.get(node.op_type)
    if fn is None:
        _err(st, node, "cannot be applied to a tensor computed from the input")
    if node.op_type not in _GLUE_OPS:  # a layer reads these: RNN views must be plain by now
        from .import_rnn import consume

        for x in ins:
            if isinstance(x, T):
                consume(st, node, x)
    res = fn(st, node, ins, _attrs(node))
    if isinstance(res, dict):  # several outputs (LSTM/GRU: Y, Y_h, Y_c), each a view
        st.tens.update(res)
        return
    st.tens[node.output[0]] = res
    for extra in node.output[1:]:
        if extra and st.uses.get(extra):
            _err(st, node, f"its output {extra!r} (training statistics / indices / mask) is used; xnn cannot import it")


def _identity(st, node, ins, a):
    return _tensor(st, node, ins[0]) if node.op_type != "Identity" else ins[0]


def _act(fn: str):
    def h(st, node, ins, a):
        x = _tensor(st, node, ins[0])
        fields: dict = {"fn": fn}
        if fn == "leaky_relu":
            fields["negative_slope"] = _f32(a.get("alpha", 0.01))
        if fn == "elu":
            fields["alpha"] = _f32(a.get("alpha", 1.0))
        if fn == "gelu" and a.get("approximate", b"none") in ("tanh", b"tanh"):
            fields["fn"] = "gelu_tanh"
        y = _keep_view(_add(st, node, "Activation", fields, [_base(x)]), x)
        if fn == "sigmoid":  # a following Mul(x, sigmoid(x)) turns this layer into silu
            st.sigmoid_of[node.output[0]] = (len(st.layers) - 1, x.node)
        return y
    return h


def _base(x: T) -> T:
    """The xnn tensor a view reads (layers always take xnn tensors)."""
    return T(x.node, x.shape, tuple(range(len(x.shape) + 1)))


def _keep_view(y: T, x: T) -> T:
    """An elementwise layer's output seen through the same view as its input."""
    return T(y.node, y.shape, x.axes, x.perm)


def _softmax(st, node, ins, a):
    x = _tensor(st, node, ins[0])
    r = x.rank
    ax = int(a.get("axis", -1 if st.opset >= 13 else 1)) % r
    if st.opset < 13 and ax != r - 1:
        # axes ax.. are flattened into one: a softmax over one axis when the others have size 1
        shape = x.onnx_shape()
        wide = [i for i in range(ax, r) if shape[i] != 1]
        if len(wide) > 1:
            _err(st, node, f"Softmax before opset 13 flattens axes {ax}.. (sizes {shape[ax:]}) into one; xnn's "
                           "softmax runs over one axis")
        held = [i for i in range(ax, r) if x.axes[i] not in (None, 0)]
        ax = wide[0] if wide else (held[0] if held else ax)
    xa = x.axes[ax]
    if xa is None or xa == 0:
        _err(st, node, "softmax over a unit or batch axis")
    fields = {"fn": "softmax", "axis": int(xa - (len(x.shape) + 1))}
    return _keep_view(_add(st, node, "Activation", fields, [_base(x)]), x)


def _dropout(st, node, ins, a):
    x = _tensor(st, node, ins[0])
    rate = a.get("ratio", 0.5)
    if len(ins) > 1 and ins[1] is not None:
        rate = float(np.asarray(_const(st, node, ins[1], "ratio")).reshape(()))
    if len(ins) > 2 and ins[2] is not None and bool(np.asarray(_const(st, node, ins[2], "training_mode")).reshape(())):
        _err(st, node, "training_mode=1 Dropout cannot be imported")
    return _keep_view(_add(st, node, "Dropout", {"rate": _f32(rate)}, [_base(x)]), x)


def _dense(st, node, x: T, w: np.ndarray, b: np.ndarray | None) -> T:
    if x.perm is not None:  # ONNX feature j is xnn feature perm[j]: move the columns
        wx = np.empty_like(w)
        wx[:, x.perm] = w
        w = wx
    if x.rank > 2 and not x.plain():
        _err(st, node, "a MatMul over the last axis of a channels-first tensor has no xnn equivalent")
    if x.rank == 2 and x.axes != (0, 1):
        _err(st, node, "a Gemm over a unit-axis view")
    p = {"weight": w}
    if b is not None:
        p["bias"] = b
    y = _add(st, node, "Dense", {"units": int(w.shape[0]), "use_bias": b is not None}, [_base(x)], p)
    if b is None:
        st.bias_slot[node.output[0]] = len(st.layers) - 1
    return y


def _gemm(st, node, ins, a):
    x = _tensor(st, node, ins[0])
    b = _const(st, node, ins[1], "B (the weight)")
    c = ins[2] if len(ins) > 2 else None
    if a.get("transA", 0):
        _err(st, node, "transA=1 is not supported")
    if x.rank != 2 or b.ndim != 2:
        _err(st, node, "Gemm needs a rank-2 input and weight")
    w = (b if a.get("transB", 0) else b.T).astype(np.float64) * _f32(a.get("alpha", 1.0))
    bias = None
    if c is not None:
        c = np.asarray(_const(st, node, c, "C (the bias)"), np.float64)
        units = w.shape[0]
        if c.size not in (1, units) or (c.ndim >= 1 and c.shape[-1] not in (1, units)) or \
                any(v != 1 for v in c.shape[:-1]):
            _err(st, node, f"C of shape {list(c.shape)} is not one bias per unit ({units} units); xnn's Dense adds "
                           "the same bias to every sample")
        bias = np.broadcast_to(c.reshape(-1) * float(a.get("beta", 1.0)), (units,)).copy()
    return _dense(st, node, x, w, bias)


def _matmul(st, node, ins, a):
    x = _tensor(st, node, ins[0])
    b = _const(st, node, ins[1], "the second MatMul operand (the weight)")
    if b.ndim != 2:
        _err(st, node, "MatMul needs a 2-D constant weight")
    return _dense(st, node, x, b.T.astype(np.float64), None)


def _add_op(st, node, ins, a):
    ts = [v for v in ins if isinstance(v, T)]
    cs = [v for v in ins if isinstance(v, np.ndarray)]
    if len(ts) == 1 and not cs:
        return ts[0]
    if cs:
        if len(ts) != 1 or len(cs) != 1:
            _err(st, node, "only a tensor plus one constant (a bias) is supported")
        return _fold_bias(st, node, ts[0], node.input[[isinstance(v, T) for v in ins].index(True)], cs[0])
    x0 = ts[0]
    for t in ts[1:]:
        if t.axes != x0.axes or t.shape != x0.shape or not _same_perm(t.perm, x0.perm) or t.pads or x0.pads:
            _err(st, node, "inputs are different views (layouts) of xnn tensors")
    return _keep_view(_add(st, node, "Add", {}, [_base(t) for t in ts]), x0)


def _same_perm(p, q) -> bool:
    return (p is None and q is None) or (p is not None and q is not None and np.array_equal(p, q))


def _fold_bias(st, node, x: T, xname: str, c: np.ndarray) -> T:
    """``x + c`` where x comes from a bias-less Dense/Conv used once: c becomes its bias."""
    idx = st.bias_slot.get(xname)
    if idx is None or st.uses.get(xname, 0) != 1:
        _err(st, node, "adding a constant is only supported as the bias right after a MatMul or Conv")
    entry = st.layers[idx]
    units = st.shapes[entry["name"]][-1]
    c = np.asarray(c, np.float64)
    if entry["type"] == "Dense":
        if c.size != units or (c.ndim >= 1 and c.shape[-1] != units):
            _err(st, node, f"bias of shape {list(c.shape)} does not fit {units} units")
    else:  # Conv on (N, C, *S): the bias broadcasts as (C, 1, ...) or (1, C, 1, ...)
        want = x.rank - 1
        cc = c.reshape(c.shape[-want:]) if c.ndim >= want else c
        if cc.size != units or cc.shape[0] != units:
            _err(st, node, f"bias of shape {list(c.shape)} is not per channel")
    entry["use_bias"] = True
    st.params[f"{entry['name']}.bias"] = c.reshape(-1).copy()
    del st.bias_slot[xname]
    if re.search(r"(_matmul|MatMul|Conv)", entry["name"]):  # name the layer after the Add (xnn's own export)
        x = T(_rename(st, idx, _hint(node)), x.shape, x.axes, x.perm)
    return x


def _padding_kind(spatial, k, s, d, pads_lo_hi):
    """``"valid"``, ``"same"`` (TF rule), a symmetric per-axis list, or None (asymmetric, not 'same')."""
    from ...layers import _conv

    if all(lo == 0 and hi == 0 for lo, hi in pads_lo_hi):
        return "valid"
    same = [_conv.same_pads(spatial[i], k[i], s[i], d[i]) for i in range(len(k))]
    if list(map(tuple, pads_lo_hi)) == same:
        return "same"
    if all(lo == hi for lo, hi in pads_lo_hi):
        return [int(lo) for lo, _ in pads_lo_hi]
    return None


def _pads_to_padding(st, node, spatial, k, s, d, pads_lo_hi, allow_explicit: bool):
    padding = _padding_kind(spatial, k, s, d, pads_lo_hi)
    if padding is None or (isinstance(padding, list) and not allow_explicit):
        _err(st, node, f"pads {[list(p) for p in pads_lo_hi]} are asymmetric and not TF-style 'same' for this input; "
                       "xnn cannot express them")
    return padding


def _geometry(st, node, a, x: T, k):
    nd = len(k)
    spatial = x.shape[:nd]
    s = list(a.get("strides", [1] * nd))
    d = list(a.get("dilations", [1] * nd))
    ap = a.get("auto_pad", b"NOTSET")
    ap = ap.decode() if isinstance(ap, bytes) else ap
    from ...layers import _conv

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


def _conv(st, node, ins, a):
    x = _tensor(st, node, ins[0])
    pre = x.pads
    if pre is not None:
        x = T(x.node, x.shape, x.axes, x.perm)
    _need_cf(st, node, x)
    w = _const(st, node, ins[1], "W")
    b = ins[2] if len(ins) > 2 else None
    nd = w.ndim - 2
    if nd not in (1, 2):
        _err(st, node, f"{nd}-D convolution is not an xnn layer")
    k = list(a.get("kernel_shape", w.shape[2:]))
    spatial, s, d, pads = _geometry(st, node, a, x, k)
    if pre is not None:
        pads = [(lo + plo, hi + phi) for (lo, hi), (plo, phi) in zip(pads, pre)]
    padding = _pads_to_padding(st, node, spatial, k, s, d, pads, True)
    fields = {"filters": int(w.shape[0]), "kernel_size": k, "strides": s, "padding": padding, "dilation": d,
              "groups": int(a.get("group", 1)), "use_bias": b is not None}
    p = {"weight": w}
    if b is not None:
        p["bias"] = _const(st, node, b, "B")
    y = _add(st, node, f"Conv{nd}D", fields, [_base(x)], p)
    if b is None:
        st.bias_slot[node.output[0]] = len(st.layers) - 1
    return T(y.node, y.shape, x.axes)


def _pad(st, node, ins, a):
    x = _tensor(st, node, ins[0])
    mode = a.get("mode", b"constant")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    if st.opset >= 11:
        p = _const(st, node, ins[1], "pads").astype(int).tolist()
        val = ins[2] if len(ins) > 2 else None
        val = 0.0 if val is None else float(np.asarray(_const(st, node, val, "constant_value")).reshape(()))
        if len(ins) > 3 and ins[3] is not None:
            _err(st, node, "Pad with axes is not supported")
    else:
        p, val = list(a.get("pads", [])), float(a.get("value", 0.0))
    r = x.rank
    if mode != "constant" or val != 0.0 or len(p) != 2 * r:
        _err(st, node, "only zero constant padding (before a Conv) is supported")
    if p[0] or p[1] or p[r] or p[r + 1] or any(v < 0 for v in p):
        _err(st, node, "padding the batch or channel axis is not supported")
    return T(x.node, x.shape, x.axes, x.perm, pads=[(p[i], p[i + r]) for i in range(2, r)])


def _batchnorm(st, node, ins, a):
    x = _tensor(st, node, ins[0])
    if int(a.get("spatial", 1)) != 1:
        _err(st, node, "spatial=0 (per-activation statistics) has no xnn equivalent")
    if int(a.get("training_mode", 0)):
        _err(st, node, "training_mode=1 cannot be imported")
    if x.rank >= 3:
        _need_cf(st, node, x)
    elif x.axes != (0, 1):
        _err(st, node, "BatchNormalization over a unit-axis view")
    names = ("weight", "bias", "running_mean", "running_var")
    p = {k: np.asarray(_const(st, node, v, k), np.float64).reshape(-1) for k, v in zip(names, ins[1:5])}
    if x.perm is not None:
        for k in names:
            v = np.empty_like(p[k])
            v[x.perm] = p[k]
            p[k] = v
    mom = min(max(1.0 - _f32(a.get("momentum", 0.9)), 0.0), 1.0)
    y = _add(st, node, "BatchNorm", {"eps": _f32(a.get("epsilon", 1e-5)), "momentum": mom}, [_base(x)], p)
    return T(y.node, y.shape, x.axes, x.perm)


def _pool(kind: str):
    def h(st, node, ins, a):
        x = _tensor(st, node, ins[0])
        _need_cf(st, node, x)
        k = list(a["kernel_shape"])
        nd = len(k)
        if nd not in (1, 2):
            _err(st, node, f"{nd}-D pooling is not an xnn layer")
        spatial, s, d, pads = _geometry(st, node, a, x, k)
        if any(v != 1 for v in d):
            _err(st, node, "dilated pooling is not an xnn layer")
        padding = _pads_to_padding(st, node, spatial, k, s, d, pads, True)
        include = int(a.get("count_include_pad", 0))
        src = _base(x)
        if kind == "AvgPool" and include and padding == "same" and all(lo == hi for lo, hi in pads):
            padding = [int(lo) for lo, _ in pads]  # counted zeros: zero padding then a 'valid' pool
        if isinstance(padding, list):  # symmetric explicit pads: zero padding, then a 'valid' pool
            if kind == "AvgPool" and not include:
                _err(st, node, f"pads {padding} with count_include_pad=0: xnn's pools pad only 'same' (TF rule), "
                               "and zero padding would count the padded cells")
            if kind == "MaxPool" and src.node not in st.nonneg:
                _err(st, node, f"explicit pads {padding}: xnn's pools pad only 'same' (TF rule); zero padding is "
                               "exact only for inputs known to be >= 0 (after a ReLU), which this one is not")
            src = _zero_pad(st, node, src, padding)
            padding = "valid"
        elif kind == "AvgPool" and padding != "valid" and include:
            _err(st, node, "count_include_pad=1 with 'same' padding: xnn's average pooling excludes padded cells")
        y = _add(st, node, f"{kind}{nd}D", {"pool_size": k, "strides": s, "padding": padding}, [src])
        if int(a.get("ceil_mode", 0)):
            want = [-(-(spatial[i] + pads[i][0] + pads[i][1] - k[i]) // s[i]) + 1 for i in range(nd)]
            if list(y.shape[:nd]) != want:
                _err(st, node, "ceil_mode=1 changes the output size here; xnn pools round down")
        return T(y.node, y.shape, x.axes)
    return h


def _zero_pad(st, node, x: T, padding: list[int]) -> T:
    """Zero padding of an xnn tensor as a depthwise 1x1 Conv of ones with symmetric ``padding``
    (exact: each value times 1.0). xnn's pools have no explicit padding of their own."""
    c = x.shape[-1]
    nd = len(padding)
    fields = {"filters": c, "kernel_size": [1] * nd, "strides": [1] * nd, "padding": padding,
              "dilation": [1] * nd, "groups": c, "use_bias": False}
    y = _add(st, node, f"Conv{nd}D", fields, [x], {"weight": np.ones((c, 1, *([1] * nd)))},
             name=_fresh(st, _hint(node) + "_pad"))
    if x.node in st.nonneg:
        st.nonneg.add(y.node)
    return y


def _global_pool(st, node, ins, a):
    x = _tensor(st, node, ins[0])
    _need_cf(st, node, x)
    nd = x.rank - 2
    if nd not in (1, 2):
        _err(st, node, f"{nd}-D global pooling is not an xnn layer")
    y = _add(st, node, f"GlobalAvgPool{nd}D", {}, [_base(x)])
    return T(y.node, y.shape, (0, 1, *([None] * nd)))  # ONNX keeps (N, C, 1, ...)


def _reduce_mean(st, node, ins, a):
    x = _tensor(st, node, ins[0])
    axes = a.get("axes")
    if len(ins) > 1 and ins[1] is not None:
        axes = _const(st, node, ins[1], "axes").astype(int).tolist()
    if axes is None:
        _err(st, node, "ReduceMean over every axis")
    r = x.rank
    axes = sorted(int(v) % r for v in axes)
    nd = len(x.shape) - 1
    if sorted(x.axes[i] for i in axes) != list(range(1, nd + 1)) or nd not in (1, 2) or x.perm is not None:
        _err(st, node, "only a mean over every spatial axis (global average pooling) is supported")
    y = _add(st, node, f"GlobalAvgPool{nd}D", {}, [_base(x)])
    keep = int(a.get("keepdims", 1))
    rest = [None if i in axes else x.axes[i] for i in range(r) if keep or i not in axes]
    rest = [1 if v == len(x.shape) else v for v in rest]  # the channel axis becomes xnn axis 1
    return T(y.node, y.shape, tuple(rest))


def _flatten_view(st, node, x: T) -> T:
    """Flatten (N, ...) to (N, F) in ONNX order; an xnn Flatten plus the feature permutation."""
    if x.rank == 2:  # already (N, F): an ONNX Flatten here is xnn's Flatten of a vector (identity)
        return _keep_view(_add(st, node, "Flatten", {}, [_base(x)]), x) if node.op_type == "Flatten" else x
    xn = len(x.shape)
    idx = np.arange(int(np.prod(x.shape))).reshape(1, *x.shape)
    perm = _view(idx, x.axes).reshape(-1)
    if x.perm is not None:
        _err(st, node, "flattening a permuted view")
    if xn == 1:
        y = T(x.node, x.shape, (0, 1))
    else:
        y = _add(st, node, "Flatten", {}, [_base(x)])
    if not np.array_equal(perm, np.arange(perm.size)):
        y.perm = perm
    return y


def _flatten(st, node, ins, a):
    x = _tensor(st, node, ins[0])
    ax = int(a.get("axis", 1)) % max(x.rank, 1)
    if ax != 1:
        _err(st, node, f"Flatten(axis={ax}) would merge the batch axis; only axis=1 is supported")
    return _flatten_view(st, node, x)


def _reshape(st, node, ins, a):
    x = _tensor(st, node, ins[0])
    shp = [int(v) for v in _const(st, node, ins[1], "shape").reshape(-1)]
    if x.rnn is not None or x.split is not None or (0 in x.axes and x.axes[0] != 0):
        from .import_rnn import reshape_view

        y = reshape_view(st, node, x, shp, bool(a.get("allowzero", 0)))
        if y is not None:
            return y
        from .import_rnn import consume  # not glue: a layer reads the RNN output

        consume(st, node, x)
        x = T(x.node, x.shape, x.axes, x.perm)
    src = x.onnx_shape()
    size = int(np.prod(x.shape))
    if not shp:
        _err(st, node, "reshape to a scalar")
    if SENTINEL in shp[1:]:
        _err(st, node, "the batch size must stay the first axis")
    tail = [src[i + 1] if (v == 0 and not a.get("allowzero", 0) and i + 1 < len(src)) else v
            for i, v in enumerate(shp[1:])]
    known = int(np.prod([v for v in tail if v != -1])) if tail else 1
    if tail.count(-1) == 1:
        tail = [size // known if v == -1 else v for v in tail]
    if int(np.prod(tail)) != size or tail.count(-1) > 1:
        _err(st, node, f"cannot keep the batch axis: per-sample size {size} vs target {shp}")
    if shp[0] not in (0, -1, SENTINEL) and shp[0] <= 0:
        _err(st, node, f"bad batch entry {shp[0]} in the target shape")
    if len(tail) == 1:
        return _flatten_view(st, node, x)
    if tail == src[1:]:
        return x
    if not x.plain():
        _err(st, node, "reshaping a channels-first view into a new rank has no xnn equivalent")
    return _add(st, node, "Reshape", {"target_shape": tail}, [_base(x)])


def _transpose(st, node, ins, a):
    x = _tensor(st, node, ins[0])
    perm = list(a.get("perm", list(range(x.rank))[::-1]))
    # the batch axis may move (time-major RNN inputs): layers refuse such views (_tensor)
    if x.perm is not None and x.rank == 2 and perm == [0, 1]:
        return x
    if x.perm is not None and perm[0] != 0:
        _err(st, node, "a Transpose that moves the batch axis of a permuted feature vector")
    return replace(x, axes=tuple(x.axes[p] for p in perm))


def _squeeze(st, node, ins, a):
    x = _tensor(st, node, ins[0])
    axes = a.get("axes")
    if len(ins) > 1 and ins[1] is not None:
        axes = _const(st, node, ins[1], "axes").astype(int).tolist()
    if axes is None:
        axes = [i for i, v in enumerate(x.onnx_shape()) if v == 1]
    axes = {int(v) % x.rank for v in axes}
    if any(x.axes[i] is not None for i in axes):
        _err(st, node, "squeezing an axis of the xnn tensor (only inserted unit axes can go)")
    return replace(x, axes=tuple(v for i, v in enumerate(x.axes) if i not in axes))


def _unsqueeze(st, node, ins, a):
    x = _tensor(st, node, ins[0])
    axes = a.get("axes")
    if len(ins) > 1 and ins[1] is not None:
        axes = _const(st, node, ins[1], "axes").astype(int).tolist()
    r = x.rank + len(axes)
    axes = sorted(int(v) % r for v in axes)
    out = list(x.axes)
    for i in axes:
        out.insert(i, None)
    return replace(x, axes=tuple(out))


def _concat(st, node, ins, a):
    ts = [v for v in ins if v is not None]
    if not all(isinstance(t, T) for t in ts):
        _err(st, node, "concatenating a constant with a computed tensor")
    x0 = ts[0]
    for t in ts:
        if t.axes != x0.axes or t.perm is not None or t.pads:
            _err(st, node, "inputs are different (or permuted) views of xnn tensors")
    ax = x0.axes[int(a["axis"]) % x0.rank]
    if ax is None or ax == 0:
        _err(st, node, "concatenating along the batch or a unit axis")
    y = _add(st, node, "Concatenate", {"axis": int(ax - (len(x0.shape) + 1))}, [_base(t) for t in ts])
    return T(y.node, y.shape, x0.axes)


def _gather(st, node, ins, a):
    w, idx = ins[0], ins[1]
    if isinstance(w, T):  # a step / direction / unit axis picked out of an RNN output
        from .import_rnn import gather_view

        return gather_view(st, node, w, _const(st, node, idx, "indices"), int(a.get("axis", 0)))
    if not isinstance(w, np.ndarray) or not isinstance(idx, T) or int(a.get("axis", 0)) != 0 or w.ndim != 2:
        _err(st, node, "only Gather(constant 2-D table, indices from the input, axis=0) (an embedding) is supported")
    if not idx.plain() or not idx.int_input:
        _err(st, node, "embedding indices must be the integer graph input")
    return _add(st, node, "Embedding", {"num_embeddings": int(w.shape[0]), "dim": int(w.shape[1])}, [_base(idx)],
                {"weight": w})


def _layernorm(st, node, ins, a):
    x = _tensor(st, node, ins[0])
    if int(a.get("axis", -1)) % x.rank != x.rank - 1:
        _err(st, node, "only normalization over the last axis maps to xnn's LayerNorm")
    if x.rank > 2 and not x.plain():
        _err(st, node, "LayerNormalization over a channels-first view")
    f = x.shape[-1]
    w = np.asarray(_const(st, node, ins[1], "scale"), np.float64).reshape(-1)
    b = np.zeros(f) if len(ins) < 3 or ins[2] is None else np.asarray(_const(st, node, ins[2], "B"), np.float64).reshape(-1)
    w, b = np.broadcast_to(w, (f,)).copy(), np.broadcast_to(b, (f,)).copy()
    if x.perm is not None:
        wx, bx = np.empty_like(w), np.empty_like(b)
        wx[x.perm], bx[x.perm] = w, b
        w, b = wx, bx
    y = _add(st, node, "LayerNorm", {"eps": _f32(a.get("epsilon", 1e-5))}, [_base(x)], {"weight": w, "bias": b})
    return T(y.node, y.shape, x.axes, x.perm)


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
    _err(st, node, "only x * Sigmoid(x) (SiLU) is supported as a product of tensors")


_HANDLERS = {
    "Gemm": _gemm, "MatMul": _matmul, "Add": _add_op, "Sum": _add_op, "Conv": _conv, "Pad": _pad,
    "BatchNormalization": _batchnorm, "MaxPool": _pool("MaxPool"), "AveragePool": _pool("AvgPool"),
    "GlobalAveragePool": _global_pool, "ReduceMean": _reduce_mean, "Flatten": _flatten, "Reshape": _reshape,
    "Transpose": _transpose, "Squeeze": _squeeze, "Unsqueeze": _unsqueeze, "Relu": _act("relu"),
    "LeakyRelu": _act("leaky_relu"), "Sigmoid": _act("sigmoid"), "Tanh": _act("tanh"), "Elu": _act("elu"),
    "Gelu": _act("gelu"), "Softmax": _softmax, "Identity": _identity, "Dropout": _dropout, "Concat": _concat,
    "Gather": _gather, "LayerNormalization": _layernorm, "Mul": _mul,
}


def _rnn_handlers() -> None:
    from . import import_rnn  # imports this module's helpers, so it is loaded after them

    _HANDLERS.update(import_rnn.HANDLERS)


_rnn_handlers()
