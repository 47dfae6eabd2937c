"""Import an ONNX graph into an xnn spec dict + canonical weights.

Reads graphs written by xnn itself, ``torch.onnx.export`` (TorchScript and dynamo), Keras's ONNX
export and MATLAB's exporter, opset 7 and newer. The package:

- :mod:`.state`: the view of each ONNX tensor as an xnn tensor (``T``), the import state and the
  helpers that add layers and report errors;
- :mod:`.fold`: constant folding (opset-aware, size-bounded);
- :mod:`.restore`: a file xnn wrote whose graph does not import (ViT's attention, class token,
  positional table): the stored spec, when re-exporting it reproduces the file exactly;
- :mod:`.registry`: ``@handles(op, since=...)``; the supported-op list is the registry, and
  docs/onnx.md's table is generated from it;
- ``ops/<family>.py``: one module per op family (dense, conv, norm, shape, activation, rnn);
- this module: the driver (:func:`import_onnx`), the graph input and output, the training loss.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ....errors import FormatError, XnnError
from ..load import load_onnx, tensor_array
from .fold import FOLD_OPS, fold
from .registry import cf_ops, graph_rewrites, handler, registry, supported
from .state import NAME_RE, SENTINEL, T, State, attrs, check_size, err, fresh, label, lookup, node_key, short

__all__ = ["import_onnx", "import_onnx_full", "to_xnn_input", "to_onnx_output", "load_onnx", "registry", "supported", "FOLD_OPS", "SENTINEL"]


# between the input and a channels-first reader: the input is then read as (N, C, *S); elementwise
# ops (input scaling such as (x - mean) / std, activations) keep that view
_PASS_OPS = {"Identity", "Dropout", "Pad", "Cast", "Slice", "Mul", "Add", "Sub", "Div", "Sum", "Relu", "LeakyRelu",
             "Sigmoid", "Tanh", "Elu", "Clip", "HardSigmoid", "HardSwish", "Gelu"}


def import_onnx(path: str | Path) -> tuple[dict, dict[str, np.ndarray]]:
    """Read ``path`` into ``(spec_dict, params)``: a spec (channels-last input) and canonical
    float64 weights ``<node>.<param>``. Raises FormatError naming the file: unreadable, hostile
    or unsupported operators (all of them listed at once, with the opset).
    """
    spec, params, _ = import_onnx_full(path)
    return spec, params


def import_onnx_full(path: str | Path) -> tuple[dict, dict[str, np.ndarray], dict]:
    """:func:`import_onnx` plus what the file's metadata restored: ``info["preprocess"]`` (a run's
    fitted preprocessing, from ``xnn_preprocess``, or None), ``info["restored"]`` (spec sections
    taken from ``xnn_spec``; ``"model"`` first when the graph does not import and the stored spec
    was taken instead, because exporting it again gives exactly this graph: see :mod:`.restore`)
    and ``info["defaulted"]`` (sections the import had to default), and
    how ONNX's tensors relate to xnn's: ``info["input_axes"]`` / ``info["output_axes"]`` (ONNX axis
    ``i`` holds xnn batch axis ``axes[i]``; None: a unit axis xnn does not have) and
    ``info["output_perm"]`` (a flattened channels-first output: ONNX feature ``j`` is xnn feature
    ``perm[j]``, else None). :func:`to_xnn_input` and :func:`to_onnx_output` apply them."""
    model = load_onnx(path)
    failed = None
    try:
        spec, params, views = _import(model, str(path))
    except XnnError as e:
        failed = e
    except Exception as e:  # a malformed graph must end in a clear error, never a traceback
        failed = FormatError(f"{path}: cannot import ({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''})")
    if failed is not None:
        # a file xnn wrote whose graph does not read back (ViT's attention, class token, positional
        # table): its stored spec, when exporting that spec again gives exactly this graph (restore.py).
        # A graph that does read back keeps its layers (xnn's float64 hard_sigmoid: Scale, relu6, Scale).
        from ....spec import from_dict
        from .restore import restore_model

        got = restore_model(model, str(path))
        if got is None:
            raise failed from None
        spec, params = got
        views = {"input_axes": list(range(len(spec["input"]["shape"]) + 1)),
                 "output_axes": list(range(len(from_dict(spec).output.out_shape) + 1)), "output_perm": None}
        spec, info = _restore(model, spec, str(path))
        info["restored"] = ["model", *info["restored"]]
        info.update(views)
        return spec, params, info
    spec, info = _restore(model, spec, str(path))
    info.update(views)
    return spec, params, info


def to_xnn_input(x: np.ndarray, info: dict) -> np.ndarray:
    """An ONNX input batch (e.g. ``(N, C, H, W)``) as the imported spec reads it (``(N, H, W, C)``)."""
    axes = info["input_axes"]
    return np.asarray(x).transpose([axes.index(j) for j in range(len(axes))])


def to_onnx_output(y: np.ndarray, info: dict) -> np.ndarray:
    """The imported model's (channels-last) output batch in the ONNX graph's layout."""
    from .state import view_of

    y = np.asarray(y)
    perm = info.get("output_perm")
    if perm is not None:
        y = y[:, np.asarray(perm)]
    return view_of(y, tuple(info["output_axes"]))


_SECTIONS = ("name", "train", "data", "parallel")  # what a spec holds besides its input and graph


def _restore(model, spec: dict, path: str) -> tuple[dict, dict]:
    """Put back the sections of the spec an xnn export stored (``xnn_spec``) and its fitted
    preprocessing (``xnn_preprocess``); a foreign file keeps the defaults, and says which."""
    from ....limits import loads_json
    from ....spec import from_dict

    meta = {p.key: p.value for p in model.metadata_props}
    info = {"preprocess": None, "restored": [], "defaulted": [s for s in _SECTIONS if s not in spec or s == "name"]}
    raw = meta.get("xnn_spec")
    if raw is None:
        return spec, info
    stored = loads_json(raw, f"{path}: metadata xnn_spec")
    merged = dict(spec)
    for k in _SECTIONS:
        if k in stored:
            merged[k] = stored[k]
    if isinstance(stored.get("input"), dict) and stored["input"].get("shape") == spec["input"]["shape"]:
        merged["input"] = {**spec["input"], **{k: v for k, v in stored["input"].items() if k != "shape"}}
    try:
        from_dict(merged, source=path)
    except XnnError as e:
        raise FormatError(f"{path}: metadata xnn_spec does not fit the imported graph: "
                          f"{e.messages[0] if getattr(e, 'messages', None) else e}") from None
    info["restored"] = [k for k in _SECTIONS if k in stored]
    info["defaulted"] = [k for k in _SECTIONS if k not in stored]
    pre = meta.get("xnn_preprocess")
    if pre is not None:
        info["preprocess"] = loads_json(pre, f"{path}: metadata xnn_preprocess")
    return merged, info


def _opset(model) -> int:
    for o in model.opset_import:
        if o.domain in ("", "ai.onnx"):
            return int(o.version)
    return 0


def _import(model, path: str):
    graph = model.graph
    opset = _opset(model)
    if opset < registry_min():
        raise FormatError(f"{path}: opset {opset} is older than {registry_min()}, the oldest xnn reads")
    st = State(path, opset)
    for t in graph.initializer:
        st.consts[t.name] = tensor_array(t, path, f"initializer {t.name!r}")
    needed = _needed(graph)
    bad: dict[str, list[str]] = {}
    st.index = {node_key(n): i for i, n in enumerate(graph.node)}
    nodes = [n for i, n in enumerate(graph.node) if i in needed]  # dead branches are ignored
    outs = {o.name for o in graph.output}
    for rewrite in graph_rewrites():  # multi-node patterns of the op families (e.g. a written-out GELU)
        nodes = rewrite(st, nodes, outs)
    ok = supported(opset) | FOLD_OPS
    for n in nodes:
        if n.domain not in ("", "ai.onnx"):
            bad.setdefault(f"{n.domain}::{n.op_type}", []).append(short(st, n, quote=False))
        elif n.op_type not in ok:
            bad.setdefault(n.op_type, []).append(short(st, n, quote=False))
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
            st.readers.setdefault(x, []).append(n)
    for n in nodes:
        _node(st, n)
    oname = graph.output[0].name
    out = st.tens.get(oname)
    if out is None and oname not in st.consts:
        for n in nodes:
            if oname in n.output[1:]:
                raise FormatError(f"{label(st, n)}: the graph output {oname[:80]!r} is its output "
                                  f"{list(n.output).index(oname)} (statistics, indices or a mask), which xnn "
                                  "does not compute", source=path)
    if out is None or out.node == "input":
        raise FormatError(f"{path}: the graph output is a constant or the input itself; nothing to import")
    from .ops.rnn import consume_output

    consume_output(st, out, graph.output[0].name)
    if out.shuffle:
        raise FormatError(f"{path}: the graph output is a channel axis split into groups (an unfinished channel shuffle)")
    if out.pads is not None:
        raise FormatError(f"{path}: the graph ends in a Pad, which xnn has no layer for")
    if st.layers[-1]["name"] != out.node:
        raise FormatError(f"{path}: the graph output is not its last computed tensor")
    out = _keep_output_rank(st, out)
    views = {"input_axes": list(st.tens[inp.name].axes), "output_axes": list(out.axes),
             "output_perm": None if out.perm is None else [int(v) for v in out.perm]}
    name = NAME_RE.sub("_", graph.name or "imported")[:63] or "imported"
    spec = {"xnn": 1, "name": name, "input": spec_input, "model": st.layers}
    train = _fitting_loss(st)
    if train:
        spec["train"] = train
    from ....errors import SpecError
    from ....spec import from_dict
    from ....weights import check_params

    try:
        s = from_dict(spec)
        check_params(st.params, s, source=path)
    except SpecError as e:
        raise FormatError([f"imported graph is not a valid xnn model: {m}" for m in e.messages], source=path) from None
    return spec, {k: np.asarray(v, dtype=np.float64) for k, v in st.params.items()}, views


def _keep_output_rank(st: State, out: T) -> T:
    """A graph output that is a unit-axis view of the last xnn tensor (SqueezeNet's ``(N, 1000, 1, 1)``
    after GlobalAveragePool) keeps its ONNX rank: a Reshape to the ONNX per-sample shape, exact
    because the values are in the same order. Channels-first outputs stay channels-last (documented)."""
    real = [a for a in out.axes if a is not None]
    if out.perm is not None or out.split is not None or len(real) == len(out.axes):
        return out
    if real != list(range(len(real))):
        return out  # a channels-first view: the output is channels-last (as for any cf output)
    target = [int(v) for v in out.onnx_shape()[1:]]
    name = fresh(st, f"{out.node}_to_onnx_shape")
    st.layers.append({"type": "Reshape", "name": name, "target_shape": target})
    st.shapes[name] = tuple(target)
    return T(name, tuple(target), tuple(range(len(target) + 1)))


def _fitting_loss(st: State) -> dict | None:
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


def _input(st: State, graph, inp) -> dict:
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
    check_size(st, f"input {inp.name!r}", dims[1:])
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
    """True when a Conv/pool/BatchNormalization reads the input (through ``_PASS_OPS``)."""
    readers: dict[str, list] = {}
    for n in graph.node:  # one pass: a long chain of Identity nodes stays linear
        for x in set(n.input):
            readers.setdefault(x, []).append(n)
    frontier, seen = [name], set()
    cf = cf_ops()
    while frontier:
        t = frontier.pop()
        if t in seen:
            continue
        seen.add(t)
        for n in readers.get(t, ()):
            if n.op_type in cf:
                return True
            if n.op_type in _PASS_OPS:
                frontier.extend(n.output)
    return False


def _node(st: State, node) -> None:
    ins = [lookup(st, x) for x in node.input]
    if not any(isinstance(x, T) for x in ins) or node.op_type in ("Shape", "Size"):
        outs = fold(st, node, ins)
        if outs is not None:
            for o, v in zip(node.output, outs):
                st.consts[o] = v
            return
    h = handler(node.op_type, st.opset)
    if h is None:
        err(st, node, "cannot be applied to a tensor computed from the input")
    if not h.glue:  # a layer reads these: RNN views must be plain by now
        from .ops.rnn import consume

        for x in ins:
            if isinstance(x, T):
                consume(st, node, x)
    res = h.fn(st, node, ins, attrs(node))
    if isinstance(res, dict):  # several outputs (LSTM/GRU: Y, Y_h, Y_c), each a view
        st.tens.update(res)
        return
    st.tens[node.output[0]] = res
    for extra in node.output[1:]:
        if extra and st.uses.get(extra):
            err(st, node, f"its output {extra!r} (training statistics / indices / mask) is used; xnn cannot import it")


def registry_min() -> int:
    from .registry import MIN_OPSET

    return MIN_OPSET
