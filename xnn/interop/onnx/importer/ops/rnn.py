"""Import of ONNX ``LSTM``/``GRU`` (and the glue exporters write around them) into xnn LSTM/GRU.

What each writer produces for a batch-first RNN:

- ``torch.onnx.export`` (TorchScript): ``Transpose(x, [1,0,2])`` -> one ``LSTM``/``GRU`` per
  stacked layer with zero initial states (``ConstantOfShape`` of a ``Shape``-derived shape, and
  ``Slice``s of it per layer); between layers ``Transpose([0,2,1,3])`` + ``Reshape([0,0,-1])``
  (bidirectional) or ``Squeeze(axis 1)`` (unidirectional); the sequence back through
  ``Transpose([1,0,2])``; ``y[:, -1]`` is a ``Gather(axis=1)``.
- ``torch.onnx.export(dynamo=True)``: the same ops, ``Reshape`` instead of ``Squeeze``, zero
  initial states as initializers.
- xnn's own export (``layers/_seq.py``): one op per layer, ``Transpose``/``Reshape`` glue,
  ``ReduceSum`` over the directions for ``merge: sum``, ``Y_h`` for ``output: last``.

Every RNN output is tracked as a view (``importer.state.T``) of the xnn node, tagged with what it
stands for (``rnn = (mode, num_layers, merge)``). Decisions are taken lazily, by the first layer
that reads the node: a following ONNX RNN op reading the sequence adds a stacked layer; a
``Gather`` of the last time step (unidirectional) or a read of ``Y_h`` turns it into
``output: last``; a ``ReduceSum`` over the direction axis into ``merge: sum``. A second reader
that needs another choice is refused (xnn's recurrent node has one output).

Weights: ONNX gate blocks i,o,f,c (LSTM) / z,r,h (GRU) go back to PyTorch's i,f,g,o / r,z,n.
``B = [Wb, Rb]`` becomes ``bias_ih``, ``bias_hh`` as they are (xnn's LSTM and GRU keep PyTorch's
two biases, so a torch export comes back with the very parameters it trains). For GRU only
``linear_before_reset=1`` (PyTorch's convention) is xnn's GRU — the other convention applies
the reset gate before ``R_h h + Rb_h`` and has no exact equivalent, so it is refused.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import NoReturn

import numpy as np

from ..registry import handles
from ..state import SENTINEL, T, State, add_layer, base_of, err, fresh, label, name_hint, need_const


_GATES = {"LSTM": 4, "GRU": 3}


_ONNX_ORDER = {"LSTM": [0, 3, 1, 2], "GRU": [1, 0, 2]}


_DEFAULT_ACTS = {"LSTM": ["sigmoid", "tanh", "tanh"], "GRU": ["sigmoid", "tanh"]}


_MODES = {"seq": "sequences", "last": "last"}


@dataclass
class RnnInfo:
    """What the xnn node ``st.layers[idx]`` has become so far; ``fixed`` once a layer read it."""

    idx: int
    kind: str
    units: int
    dirs: int
    layers: int = 1
    mode: str = "seq"
    merge: str = "concat"
    fixed: bool = False


def _torch_blocks(a: np.ndarray, op: str) -> np.ndarray:
    """Gate blocks (axis 0) from ONNX order back to PyTorch's (canonical) order."""
    parts = np.split(np.asarray(a, np.float64), _GATES[op], axis=0)
    inv = np.argsort(_ONNX_ORDER[op])
    return np.concatenate([parts[i] for i in inv], axis=0)


def _s(v) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def _zero_or_none(st: State, node, v, what: str) -> None:
    """Optional inputs xnn has no room for: absent, or constant zeros (then they change nothing)."""
    if v is None:
        return
    if isinstance(v, T) or not np.all(np.asarray(v) == 0):
        err(st, node, f"a non-zero {what} cannot be imported (xnn's {node.op_type} starts from zero states "
                       "and has no peepholes)")


def _check_attrs(st: State, node, a: dict, dirs: int) -> None:
    op = node.op_type
    if "clip" in a:
        err(st, node, f"clip={a['clip']} (cell clipping) has no xnn equivalent")
    acts = [_s(v).lower() for v in a.get("activations", [])]
    if acts and acts != _DEFAULT_ACTS[op] * dirs:
        err(st, node, f"activations {acts} are not the default {_DEFAULT_ACTS[op]} that xnn's {op} uses")
    if op == "LSTM" and int(a.get("input_forget", 0)):
        err(st, node, "input_forget=1 (coupled input and forget gates) has no xnn equivalent")
    if op == "GRU" and int(a.get("linear_before_reset", 0)) != 1:
        err(st, node, "linear_before_reset=0 (reset gate applied before the recurrent product) has no exact "
                       "xnn equivalent; xnn's GRU is PyTorch's convention, linear_before_reset=1")


def _params(st: State, node, op: str, w, r, b, dirs: int, h: int, fin: int, k: int) -> dict:
    g = _GATES[op]
    w = np.asarray(need_const(st, node, w, "W"), np.float64)
    r = np.asarray(need_const(st, node, r, "R"), np.float64)
    b = np.zeros((dirs, 2 * g * h)) if b is None else np.asarray(need_const(st, node, b, "B"), np.float64)
    if w.shape != (dirs, g * h, fin) or r.shape != (dirs, g * h, h) or b.shape != (dirs, 2 * g * h):
        err(st, node, f"W {list(w.shape)}, R {list(r.shape)}, B {list(b.shape)} do not fit hidden_size={h}, "
                       f"{dirs} direction(s) and {fin} input features")
    out = {}
    for d, sfx in enumerate(["", "_reverse"][:dirs]):
        out[f"weight_ih_l{k}{sfx}"] = _torch_blocks(w[d], op)
        out[f"weight_hh_l{k}{sfx}"] = _torch_blocks(r[d], op)
        out[f"bias_ih_l{k}{sfx}"] = _torch_blocks(b[d, :g * h], op)
        out[f"bias_hh_l{k}{sfx}"] = _torch_blocks(b[d, g * h:], op)
    return out


def _name_hint(node) -> str:
    """``/rnn/LSTM`` -> ``rnn``; xnn's own ``<node>_l0`` -> ``<node>``."""
    return re.sub(r"_l\d+$", "", name_hint(node))


@handles("LSTM", xnn="LSTM", glue=True, notes="forward/bidirectional, zero initial states, one op per stacked layer")
@handles("GRU", xnn="GRU", glue=True, notes="linear_before_reset=1")
def rnn(st: State, node, ins: list, a: dict) -> dict:
    op = node.op_type
    x = ins[0]
    if not isinstance(x, T):
        err(st, node, "X must be computed from the graph input")
    ins = ins + [None] * (8 - len(ins))
    if ins[4] is not None:
        err(st, node, "sequence_lens (per-sample lengths, a padding mask) is not imported yet")
    _zero_or_none(st, node, ins[5], "initial_h")
    if op == "LSTM":
        _zero_or_none(st, node, ins[6], "initial_c")
        _zero_or_none(st, node, ins[7], "P (peephole weights)")
    direction = _s(a.get("direction", "forward"))
    if direction not in ("forward", "bidirectional"):
        err(st, node, f"direction={direction!r}: xnn runs forward or bidirectional only")
    dirs = 2 if direction == "bidirectional" else 1
    _check_attrs(st, node, a, dirs)
    r = need_const(st, node, ins[2], "R")
    h = int(a.get("hidden_size", r.shape[-1]))
    layout = int(a.get("layout", 0))
    # X must be the (time, batch, feature) view (layout 0) or (batch, time, feature) (layout 1)
    want = (1, 0, 2) if layout == 0 else (0, 1, 2)
    if x.split is not None or x.perm is not None or x.pads or len(x.shape) != 2 or x.axes != want:
        err(st, node, f"X must be a {'time-major' if layout == 0 else 'batch-first'} view of an xnn sequence "
                       f"(received a view with axes {list(x.axes)} of shape {list(x.shape)})")
    fin = x.shape[1]
    info = st.rnn.get(x.node)
    stack = (info is not None and x.rnn == ("seq", info.layers, "concat") and not info.fixed and info.kind == op
             and info.units == h and info.dirs == dirs and info.mode == "seq" and info.merge == "concat")
    if stack:  # the sequence of the node's last layer feeds this op: one more stacked layer
        name = x.node
        for k_, v in _params(st, node, op, ins[1], r, ins[3], dirs, h, fin, info.layers).items():
            st.params[f"{name}.{k_}"] = v
        info.layers += 1
        st.layers[info.idx]["num_layers"] = info.layers
    else:
        if x.rnn is not None:
            consume(st, node, x)
            x = replace(x, rnn=None)
        p = _params(st, node, op, ins[1], r, ins[3], dirs, h, fin, 0)
        fields = {"units": h, "num_layers": 1, "bidirectional": dirs == 2, "output": "sequences"}
        y = add_layer(st, node, op, fields, [base_of(replace(x, axes=(0, 1, 2)))], p,
                 name=fresh(st, _name_hint(node)))
        name = y.node
        info = RnnInfo(len(st.layers) - 1, op, h, dirs)
        st.rnn[name] = info
    t = x.shape[0]
    n = info.layers
    # virtual xnn axes: seq (batch 0, time 1, dir 2, hidden 3); last (batch 0, dir 1, hidden 2)
    if dirs == 2:
        seq = T(name, (t, 2, h), (1, 2, 0, 3) if layout == 0 else (0, 1, 2, 3), split=(2, h),
                rnn=("seq", n, "concat"))
        last = T(name, (2, h), (1, 0, 2) if layout == 0 else (0, 1, 2), split=(2, h), rnn=("last", n, "concat"))
    else:
        seq = T(name, (t, h), (1, None, 0, 2) if layout == 0 else (0, 1, None, 2), rnn=("seq", n, "concat"))
        last = T(name, (h,), (None, 0, 1) if layout == 0 else (0, None, 1), rnn=("last", n, "concat"))
    outs = {}
    for o, v in zip(node.output, [seq, last, replace(last, rnn=("cell", n, "concat"))]):
        if o:
            outs[o] = v
    return outs


def _real_shape(info: RnnInfo, t: int) -> tuple:
    width = info.units * (info.dirs if info.merge == "concat" else 1)
    return (t, width) if info.mode == "seq" else (width,)


def consume(st: State, node, x: T) -> None:
    """A layer (``node``) reads ``x``: RNN views must be plain, and fix what their node returns."""
    _consume(st, x, label(st, node), time_major_ok=pools_time(node, x))


def consume_output(st: State, x: T, name: str) -> None:
    _consume(st, x, f"the graph output {name!r}")


def _consume(st: State, x: T, what: str, time_major_ok: bool = False) -> None:
    from .....errors import FormatError

    def bad(msg: str) -> NoReturn:
        raise FormatError(f"{what}: {msg}", source=st.path)

    info = st.rnn.get(x.node) if x.rnn is not None else None
    if info is not None:  # what is read first: the most specific message
        if x.rnn[0] == "cell":
            bad(f"reads Y_c, the final cell state of LSTM node {x.node!r}; xnn imports the sequence or the last "
                "hidden state only")
        if x.rnn[1] != info.layers:
            bad(f"reads an output of stacked layer {x.rnn[1]} of RNN node {x.node!r} (which has {info.layers} "
                "layers); xnn exposes only the last layer's sequence or final hidden state")
    if x.split is not None:
        bad(f"reads the per-direction output of RNN node {x.node!r} without merging the directions "
            "(xnn concatenates them or sums them)")
    if 0 in x.axes and x.axes[0] != 0 and not time_major_ok:
        bad("reads a tensor whose batch axis is not first (a time-major view); only an ONNX LSTM/GRU or a "
            "Transpose back can read it")
    if info is None:
        return
    mode, layers, merge = x.rnn
    if info.fixed:
        if (mode, merge) != (info.mode, info.merge):
            bad(f"reads RNN node {x.node!r} as {_MODES[mode]} ({merge}) while another reader uses it as "
                f"{_MODES[info.mode]} ({info.merge}); an xnn recurrent node has one output")
        return
    t = st.shapes[x.node][0] if info.mode == "seq" else None
    if t is None:
        bad(f"internal: RNN node {x.node!r} lost its time axis")
    info.mode, info.merge, info.fixed = mode, merge, True
    entry = st.layers[info.idx]
    entry["output"] = _MODES[mode]
    if merge == "sum":
        entry["merge"] = "sum"
    st.shapes[x.node] = _real_shape(info, t)


def reshape_view(st: State, node, x: T, target: list[int], allowzero: bool) -> T | None:
    """A Reshape that only merges the (direction, hidden) pair or drops unit axes; else None."""
    src = x.onnx_shape()
    cands: list[tuple] = [(list(x.axes), x.split, x.shape)]
    for i, v in enumerate(x.axes):
        if v is None:
            cands.append(([u for j, u in enumerate(x.axes) if j != i], x.split, x.shape))
    if x.split is not None:
        dir_ax = len(x.shape) - 1  # virtual direction axis; hidden is the next one
        for i in range(len(x.axes) - 1):
            if x.axes[i] == dir_ax and x.axes[i + 1] == dir_ax + 1:
                axes = [*x.axes[:i], dir_ax, *x.axes[i + 2:]]
                cands.append((axes, None, (*x.shape[:-2], x.shape[-2] * x.shape[-1])))
    for axes, split, shape in cands:
        want = [SENTINEL if a == 0 else (1 if a is None else shape[a - 1]) for a in axes]
        if _matches(st, want, target, src, allowzero):
            return replace(x, axes=tuple(axes), split=split, shape=tuple(shape))
    return None


def _matches(st: State, want: list[int], target: list[int], src: list[int], allowzero: bool) -> bool:
    if len(want) != len(target) or target.count(-1) > 1:
        return False
    for i, (w, t) in enumerate(zip(want, target)):
        if t == 0 and not allowzero:
            t = src[i] if i < len(src) else 0
        if t == -1 or t == w:
            continue
        if w == SENTINEL and st.batch is not None and t == st.batch:  # a file with a fixed batch
            continue
        return False
    return True


def gather_view(st: State, node, x: T, idx: np.ndarray, axis: int) -> T:
    """``Gather`` with a scalar index: of a unit axis (``h_n[-1]`` of one layer), or of the last
    time step of a unidirectional sequence (``y[:, -1]``), which is xnn's ``output: last``."""
    idx = np.asarray(idx)
    ax = axis % x.rank
    held = x.axes[ax]
    if idx.ndim != 0:
        err(st, node, "only a Gather of one (scalar) index of an LSTM/GRU output is supported")
    i = int(idx)
    rest = tuple(v for j, v in enumerate(x.axes) if j != ax)
    if held is None and i in (0, -1):
        return replace(x, axes=rest)
    info = st.rnn.get(x.node)
    if info is None or x.rnn is None or held in (None, 0):
        err(st, node, "only Gather of a constant table (an embedding) or of an LSTM/GRU output is supported")
    if x.rnn[0] == "seq" and held == 1:
        t = x.shape[0]
        if i % t != t - 1:
            err(st, node, f"picks time step {i} of RNN node {x.node!r}; only the last step maps to xnn "
                           "(output: last)")
        if x.split is not None or info.dirs == 2:
            err(st, node, f"picks the last time step of bidirectional RNN node {x.node!r}: its reverse half is "
                           "the reverse direction after one step, which xnn does not return; use h_n (Y_h)")
        # unidirectional: the sequence at step T-1 is the final hidden state
        axes = tuple(v if v in (None, 0) else v - 1 for v in rest)
        return replace(x, axes=axes, shape=x.shape[1:], rnn=("last", *x.rnn[1:]))
    err(st, node, f"picks index {i} along an axis of RNN node {x.node!r}'s output that xnn cannot split "
                   "(a direction or feature)")


def slice_view(st: State, node, x: T, starts: list, ends: list, axes: list, steps: list) -> T | None:
    """A Slice of an RNN sequence view that keeps only its last time step (tf2onnx writes
    ``y[-1:]`` on the time-major ``Y`` for a Keras LSTM without ``return_sequences``): of a
    unidirectional sequence that is xnn's ``output: last``, the time axis kept as a unit axis.
    None for any other Slice (the caller handles it as an ordinary one)."""
    info = st.rnn.get(x.node) if x.rnn is not None else None
    if info is None or x.rnn[0] != "seq" or len(axes) != 1 or steps != [1]:
        return None
    ax = axes[0] % x.rank
    if x.axes[ax] != 1:  # the time axis of the sequence view
        return None
    t = x.shape[0]
    lo = starts[0] + t if starts[0] < 0 else starts[0]
    hi = min(ends[0] + t if ends[0] < 0 else ends[0], t)
    if (lo, hi) != (t - 1, t):
        return None
    if x.split is not None or info.dirs == 2:
        err(st, node, f"keeps the last time step of bidirectional RNN node {x.node!r}: its reverse half is the "
                       "reverse direction after one step, which xnn does not return; use Y_h")
    axes_out = tuple(None if j == ax else (v if v in (None, 0) else v - 1) for j, v in enumerate(x.axes))
    return replace(x, axes=axes_out, shape=x.shape[1:], rnn=("last", *x.rnn[1:]))


def pools_time(node, x: T) -> bool:
    """A global ReduceMean/ReduceMax reading a time-major sequence view (tf2onnx drops the
    Transpose back before GlobalAveragePooling1D): the reduction handler maps the axes itself and
    its output keeps the batch first once the time axis is reduced."""
    return node.op_type in ("ReduceMean", "ReduceMax") and x.rnn is not None and x.rnn[0] == "seq" and \
        x.split is None


@handles("ReduceSum", xnn="merge: sum of a bidirectional LSTM/GRU", glue=True)
def reduce_sum(st: State, node, ins: list, a: dict) -> T:
    """``ReduceSum`` over the direction axis of a bidirectional output: ``merge: sum``."""
    x = ins[0]
    axes = a.get("axes")
    if len(ins) > 1 and ins[1] is not None:
        axes = need_const(st, node, ins[1], "axes").astype(int).tolist()
    if not isinstance(x, T) or x.split is None or axes is None or len(axes) != 1 or x.rnn is None:
        err(st, node, "only a ReduceSum over the directions of a bidirectional LSTM/GRU output is supported")
    ax = int(axes[0]) % x.rank
    dir_ax = len(x.shape) - 1
    if x.axes[ax] != dir_ax:
        err(st, node, "only a ReduceSum over the directions of a bidirectional LSTM/GRU output is supported")
    keep = int(a.get("keepdims", 1))
    out = [None if j == ax else (dir_ax if v == dir_ax + 1 else v) for j, v in enumerate(x.axes) if keep or j != ax]
    return replace(x, axes=tuple(out), split=None, shape=(*x.shape[:-2], x.shape[-1]),
                   rnn=(x.rnn[0], x.rnn[1], "sum"))
