"""Importer state: the view of each ONNX tensor as an xnn tensor, and the helpers every op family
uses to add layers and report errors.

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
from dataclasses import dataclass, field

import numpy as np

from ....errors import FormatError
from ....limits import limit


# stands for the (dynamic) batch size inside folded shape arithmetic; exact in int32 and float32
# (2**30 + 7 * 2**7 has 24 significant bits), so exporters' Casts of shapes keep it (tf2onnx casts
# them to int32: -(2**40) - 7 came back as -7)
SENTINEL = -(2**30) - 7 * 2**7


NAME_RE = re.compile(r"[^A-Za-z0-9_]")


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
    # a channel shuffle in progress (ShuffleNet's Reshape, Transpose, Reshape): ONNX axis ``i`` of
    # this view is split into ``(g, c)`` (``swapped``: after the Transpose, ``(c, g)``); ``axes``
    # and ``shape`` stay those of the unsplit tensor
    shuffle: tuple | None = None

    @property
    def rank(self) -> int:
        return len(self.axes) + (1 if self.shuffle else 0)

    def onnx_shape(self) -> list[int]:
        s = [SENTINEL if a == 0 else (1 if a is None else self.shape[a - 1]) for a in self.axes]
        if self.shuffle:
            i, g, c, swapped = self.shuffle
            s[i:i + 1] = [c, g] if swapped else [g, c]
        return s

    def plain(self) -> bool:
        return self.axes == tuple(range(len(self.shape) + 1)) and self.perm is None

    def cf(self) -> bool:
        r = len(self.shape) + 1
        return r >= 3 and self.axes == (0, r - 1, *range(1, r - 1)) and self.pads is None


def view_of(arr: np.ndarray, axes: tuple) -> np.ndarray:
    """The ONNX view of an xnn-layout array ``arr`` (batch first) under ``axes``."""
    v = arr.transpose([a for a in axes if a is not None])
    for i, a in enumerate(axes):
        if a is None:
            v = np.expand_dims(v, i)
    return v


@dataclass
class State:
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
    index: dict = field(default_factory=dict)  # node_key(node) -> its index in graph.node (for messages)
    nonneg: set = field(default_factory=set)  # xnn nodes whose outputs are known to be >= 0
    readers: dict = field(default_factory=dict)  # ONNX tensor -> the nodes that read it
    folded: int = 0  # bytes of every constant computed by folding so far (bounded)
    # output of a folded GELU expression -> (fn, layer name hint); see ops.activation.fold_gelu
    gelu: dict = field(default_factory=dict)


def attrs(node) -> dict:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def check_size(st: State, what: str, shape) -> None:
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


def short(st: State, node, quote: bool = True) -> str:
    """A node as messages name it: its name (shortened), else ``#<index>`` in the graph."""
    if node.name:
        name = node.name if len(node.name) <= 80 else node.name[:77] + "..."
        return repr(name) if quote else name
    i = st.index.get(node_key(node))
    return f"#{i}" if i is not None else "(unnamed)"


def node_key(node) -> tuple:
    """A node's identity for messages (protobuf hands out new wrapper objects on each access)."""
    return (node.op_type, tuple(node.input), tuple(node.output))


def label(st: State, node) -> str:
    """``node 'conv1' (Conv)`` or, for a node without a name, ``node #12 (Conv)``."""
    return f"node {short(st, node)} ({node.op_type[:40]})"


def err(st: State, node, msg: str):
    raise FormatError(f"{label(st, node)}: {msg}", source=st.path)


def name_hint(node) -> str:
    """A layer name from an ONNX node: ``/fc1/Gemm`` or ``fc1/Gemm`` -> ``fc1``, else its output."""
    if node.name:
        parts = [p for p in node.name.split("/") if p]
        if len(parts) > 1 and parts[-1].split("_")[0] == node.op_type:
            parts = parts[:-1]
        if parts:
            return "_".join(parts)
    return node.output[0]


def rename(st: State, idx: int, hint: str) -> str:
    """Rename layer ``idx`` (not read by any layer yet) to a fresh name from ``hint``."""
    old = st.layers[idx]["name"]
    new = fresh(st, hint)
    st.layers[idx]["name"] = new
    st.shapes[new] = st.shapes.pop(old)
    for k in [k for k in st.params if k.startswith(old + ".")]:
        st.params[new + k[len(old):]] = st.params.pop(k)
    st.names.discard(old)
    return new


def fresh(st: State, hint: str) -> str:
    base = NAME_RE.sub("_", hint).strip("_")
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


def add_layer(st: State, node, kind: str, fields: dict, ins: list[T], params: dict | None = None,
         name: str | None = None) -> T:
    """Append an xnn layer reading ``ins`` (plain xnn tensors); returns its plain output view."""
    from ....spec.registry import resolve_type

    name = name or fresh(st, name_hint(node))
    from pydantic import ValidationError

    from ....spec.layer import ShapeError

    cls, fixed = resolve_type(kind)
    try:
        layer = cls.model_validate({"type": kind, "name": name, **fields, **fixed})
        out = tuple(int(d) for d in layer.infer([st.shapes[t.node] for t in ins]))
    except ValidationError as e:
        bad = e.errors()[0]
        where = ".".join(map(str, bad.get("loc", ()))) or kind
        err(st, node, f"becomes an xnn {kind} with an invalid {where}: {bad.get('msg', '')[:160]}")
    except ShapeError as e:
        err(st, node, f"becomes an xnn {kind} that cannot take its input: {str(e).splitlines()[0][:200]}")
    check_size(st, label(st, node), out)
    entry = {"type": kind, "name": name, **fields}
    prev = st.layers[-1]["name"] if st.layers else "input"
    if [t.node for t in ins] != [prev]:
        entry["inputs"] = [t.node for t in ins]
    st.layers.append(entry)
    st.shapes[name] = out
    if keeps_sign(kind, fields) and all(t.node in st.nonneg for t in ins):
        st.nonneg.add(name)
    elif kind == "Activation" and fields.get("fn") in ("relu", "sigmoid", "softmax", "relu6", "hard_sigmoid"):
        st.nonneg.add(name)
    for k, v in (params or {}).items():
        st.params[f"{name}.{k}"] = np.asarray(v, dtype=np.float64)
    return T(name, out, tuple(range(len(out) + 1)))


def keeps_sign(kind: str, fields: dict) -> bool:
    """Layers whose outputs are >= 0 when all their inputs are (used to prove zero padding exact)."""
    return kind.startswith(("MaxPool", "AvgPool", "GlobalAvgPool", "GlobalMaxPool", "ZeroPadding", "Cropping",
                            "UpSampling", "SpatialDropout")) or kind in (
        "Dropout", "Flatten", "Reshape", "Concatenate", "Add", "Multiply", "LRN") or (
        kind == "Activation" and fields.get("fn") in ("relu", "leaky_relu", "elu", "gelu", "gelu_tanh", "tanh", "silu",
                                                      "relu6", "hard_sigmoid", "hard_swish"))


def lookup(st: State, name: str):
    """A constant (ndarray), a tensor view (T), or None for an omitted optional input."""
    if name == "":
        return None
    if name in st.consts:
        return st.consts[name]
    return st.tens[name]


def f32(v) -> float:
    """A float attribute (stored as float32) as the shortest decimal that round-trips (0.2, not 0.2000000029)."""
    return float(str(np.float32(v)))


def need_const(st, node, v, what: str) -> np.ndarray:
    if not isinstance(v, np.ndarray):
        err(st, node, f"{what} must be a constant (an initializer or a folded constant subgraph)")
    return v


def need_tensor(st, node, v, what: str = "input") -> T:
    if not isinstance(v, T):
        err(st, node, f"{what} must be computed from the graph input")
    if v.shuffle and node.op_type not in ("Transpose", "Reshape", "Identity"):
        err(st, node, "reads a tensor whose channel axis a Reshape split into groups; xnn imports that only as a "
                       "channel shuffle (Reshape, Transpose of the two axes, Reshape back)")
    if v.pads is not None and node.op_type not in ("Conv", "Identity"):
        err(st, node, "a Pad is only supported right before a Conv")
    return v


def need_cf(st, node, t: T):
    if not t.cf():
        err(st, node, "expects a channels-first tensor (N, C, *spatial) of the xnn graph "
                       f"(received a view with axes {list(t.axes)})")


def base_of(x: T) -> T:
    """The xnn tensor a view reads (layers always take xnn tensors)."""
    return T(x.node, x.shape, tuple(range(len(x.shape) + 1)))


def keep_view(y: T, x: T) -> T:
    """An elementwise layer's output seen through the same view as its input."""
    return T(y.node, y.shape, x.axes, x.perm)


def same_perm(p, q) -> bool:
    return (p is None and q is None) or (p is not None and q is not None and np.array_equal(p, q))
