"""The walk shared by :func:`xnn.from_keras` (a live model) and ``xnn import model.keras`` (a
file): both start from the model's serialized config (what Keras writes to config.json; a live
model gives the same dict) and a weight source, and end in ``(spec_dict, params)``.

1. :func:`~xnn.interop.keras.safety.check_objects` refuses Lambda layers and anything outside
   Keras's own modules, by name, before anything else.
2. The graph (Sequential or functional) is resolved: one input, one output, every layer called
   once, only the layers the output depends on.
3. Each layer goes through its converter (:mod:`.layers`); every unsupported layer or setting
   is collected and reported at once. Keras's implicit masks are tracked alongside as explicit
   SequenceMask nodes (:mod:`.masking`, which also reads a functional config's recorded mask ops).
4. The spec is validated by :func:`xnn.spec.from_dict`; each weight-owning node's Keras weights
   go through the xnn Keras lowering's ``from_native`` (the one conversion per layer), and the
   canonical params are checked against the spec.
"""
from __future__ import annotations

import re
from typing import Callable

import numpy as np

from ...errors import FormatError, SpecError, XnnError
from . import masking
from .layers import CONVERTERS, HINTS, Unsupported, conv, depthwise, separable
from .safety import check_objects

_BAD = re.compile(r"[^A-Za-z0-9_]")
MAX_LAYER_ERRORS = 50
_PAD_READERS = (conv, depthwise, separable)  # what a ZeroPadding may feed (folded into its padding)


class _Refused(Exception):
    pass


def _tensors(obj) -> list[tuple[str, int, int]]:
    """Every ``__keras_tensor__`` reference (layer, node index, tensor index) in a call's args,
    in order."""
    out = []
    stack = [obj]
    while stack:
        o = stack.pop()
        if isinstance(o, dict):
            if o.get("class_name") == "__keras_tensor__":
                h = (o.get("config") or {}).get("keras_history")
                if not (isinstance(h, list) and len(h) == 3 and isinstance(h[0], str)
                        and all(isinstance(i, int) for i in h[1:])):
                    raise FormatError(f"a tensor reference with a malformed keras_history {str(h)[:80]}")
                out.append((h[0], h[1], h[2]))
            else:
                stack.extend(reversed(list(o.values())))
        elif isinstance(o, list):
            stack.extend(reversed(o))
    return out


class KerasLayer:
    """One Keras layer of the model as its converter sees it."""

    def __init__(self, entry: dict, b: "Builder"):
        self.entry = entry
        self.cls = str(entry.get("class_name"))
        cfg = entry.get("config")
        self.cfg = cfg if isinstance(cfg, dict) else {}
        self.name = str(self.cfg.get("name") or entry.get("name") or "")
        self.b = b
        self.xname = ""
        self.args: list = []
        self.kwargs: dict = {}
        self.refs: dict[str, tuple[str, int, int]] = {}  # "args[i]" / kwarg name -> tensor
        self.key_mask: str | None = None  # MultiHeadAttention: the xnn mask of its value (Keras's mask)

    # ---------------------------------------------------------------- config access
    def get(self, key: str, default=None):
        v = self.cfg.get(key, default)
        if isinstance(v, dict) and v.get("class_name") == "__tuple__":
            v = (v.get("config") or {}).get("value", v)
        return default if v is None and default is not None else v

    def int(self, key: str, default=None, positive: bool = True) -> int:
        v = self.get(key, default)
        if isinstance(v, list) and len(v) == 1:
            v = v[0]
        if not isinstance(v, int) or isinstance(v, bool) or (positive and v <= 0):
            self.fail(f"{key}={v!r}: expected a {'positive ' if positive else ''}integer")
        return int(v)

    def fail(self, msg: str):
        raise Unsupported(msg)

    def rnn_kind(self, c: dict) -> str:
        return c.get("cls", self.cls)

    def input_shape(self) -> list | None:
        bc = self.entry.get("build_config")
        s = bc.get("input_shape") if isinstance(bc, dict) else None
        return s if isinstance(s, list) else None

    # ---------------------------------------------------------------- weights
    def weights(self) -> list[np.ndarray]:
        return [np.asarray(w) for w in self.b.source(self)]

    # ---------------------------------------------------------------- attention's named inputs
    def mha_inputs(self) -> tuple[str, str, str | None]:
        args = self.args
        named = {k: self.kwargs.get(k) for k in ("query", "value", "key")}
        pos = [a for a in args]
        q = named["query"] if named["query"] is not None else (pos[0] if pos else None)
        v = named["value"] if named["value"] is not None else (pos[1] if len(pos) > 1 else None)
        k = named["key"] if named["key"] is not None else (pos[2] if len(pos) > 2 else None)
        if q is None or v is None:
            self.fail("needs a query and a value input")
        return q, v, k


class Builder:
    """Accumulates the spec's node list and, per weight-owning node, the Keras weights in the
    order of the xnn Keras lowering's ``get_weights()``."""

    def __init__(self, source: Callable[[KerasLayer], list]):
        self.source = source
        self.layers: list[dict] = []
        self.native: dict[str, tuple[list, str]] = {}  # xnn node -> (weights, keras layer name)
        self.used = {"input"}
        self.reserved: set[str] = set()
        self.pads: dict[str, tuple] = {}  # ZeroPadding placeholder -> (input, pads, its KerasLayer)
        self.made: dict[str, str] = {}  # ZeroPadding placeholder -> its ZeroPadding node, once made

    def fresh(self, hint: str, own: bool = False) -> str:
        """A free node name from ``hint``; names of Keras layers still to come are kept for them
        (``own``: this is a Keras layer's own name)."""
        base = _BAD.sub("_", hint)[:56] or "layer"
        if not re.match(r"[A-Za-z_]", base):
            base = "_" + base[:55]
        name, i = base, 1
        while name in self.used or (not own and name in self.reserved):
            name, i = f"{base}_{i}", i + 1
        self.used.add(name)
        return name

    def add(self, fields: dict, inputs: list[str], name: str | None = None, hint: str | None = None,
            native: list | None = None) -> str:
        n = name if name is not None else self.fresh(hint or fields["type"].lower())
        node = {**fields, "name": n}
        prev = self.layers[-1]["name"] if self.layers else "input"
        if list(inputs) != [prev]:
            node["inputs"] = list(inputs)
        self.layers.append(node)
        if native is not None:
            self.native[n] = ([np.asarray(w) for w in native], self.current)
        return n

    current = ""

    def pad(self, x: str, pads: list, lay: "KerasLayer") -> str:
        """A ZeroPadding's output: a placeholder, folded into a valid convolution that reads it
        (symmetric pads) or made a ZeroPadding node (:meth:`materialize`) for any other reader."""
        key = f"\0pad:{lay.name}"
        self.pads[key] = (x, pads, lay)
        return key

    def materialize(self, key: str) -> str:
        """The ZeroPadding1D/2D node of placeholder ``key`` (added once, named after its Keras layer)."""
        if key in self.made:
            return self.made[key]
        from .layers import edge_field

        x, pads, lay = self.pads[key]
        kind = "ZeroPadding1D" if len(pads) == 1 else "ZeroPadding2D"
        self.made[key] = self.add({"type": kind, "padding": edge_field(pads)}, [x], name=lay.xname)
        return self.made[key]

    def last_axis_check(self, lay: KerasLayer, ax: int) -> None:
        s = lay.input_shape()
        if s is None or ax != len(s) - 1:
            lay.fail(f"axis={ax}: xnn normalizes the last (channel) axis only")

    def last_dim(self, lay: KerasLayer, x: str) -> int:
        s = lay.input_shape()
        if not s or not isinstance(s[-1], int):
            lay.fail("cannot tell the normalized width (no scale, no center and no recorded input shape)")
        return int(s[-1])


def _dtype_name(d) -> str | None:
    if isinstance(d, str):
        return d
    if isinstance(d, dict):
        c = d.get("config")
        if isinstance(c, dict) and isinstance(c.get("name"), str):
            return c["name"]
    return None


def _triples(v) -> list:
    """``input_layers``/``output_layers``: one ``[name, 0, 0]`` or a list of them."""
    if isinstance(v, list) and len(v) == 3 and isinstance(v[0], str):
        return [v]
    if isinstance(v, list) and all(isinstance(t, list) and len(t) == 3 and isinstance(t[0], str) for t in v):
        return v
    if isinstance(v, dict):  # a dict of named inputs/outputs
        return _triples(list(v.values()))
    raise FormatError(f"malformed input_layers/output_layers {str(v)[:80]}")


def convert(model: dict, source_for: Callable[[list[dict], str], Callable], where: str) -> tuple[dict, dict]:
    """``model``: the serialized model (``{"class_name": "Functional"|"Sequential", "config": ...}``);
    ``source_for(entries, kind)``: the weight source for the model's layer entries (``kind``:
    "Functional" or "Sequential"). Returns ``(spec_dict, params)``; raises FormatError naming
    ``where``."""
    entries = (model.get("config") or {}).get("layers") if isinstance(model.get("config"), dict) else None
    model, recorded = masking.mask_arguments(model)  # Keras's mask ops of a functional config
    problems = check_objects(model)
    if problems:
        raise FormatError(problems, source=where)
    try:
        return _convert(model, source_for, where, recorded, entries)
    except XnnError as e:
        if e.source is None and not all(m.startswith(where) for m in e.messages):
            raise type(e)(e.messages, source=where) from None
        raise
    except (RecursionError, MemoryError) as e:
        raise FormatError(f"{where}: cannot import ({type(e).__name__})") from None


def _convert(model: dict, source_for, where: str, recorded: dict | None = None,
             all_entries: list | None = None) -> tuple[dict, dict]:
    kind = model.get("class_name")
    cfg = model.get("config")
    if kind not in ("Functional", "Sequential", "Model") or not isinstance(cfg, dict):
        raise FormatError(f"a {kind!r} model: xnn imports Keras Sequential and functional models "
                          f"(a subclassed model's call() is Python code)")
    entries = cfg.get("layers")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise FormatError("the model config has no layer list")
    if kind == "Sequential":
        graph, inp = _sequential(cfg, entries)
    else:
        graph, inp = _functional(cfg, entries)
    # the weight source sees every entry (mask op layers included: Keras names weight groups by order)
    source = source_for(all_entries if all_entries is not None else entries,
                        "Sequential" if kind == "Sequential" else "Functional")
    b = Builder(lambda lay: source(lay))
    spec_input, input_dtype = inp
    order, producers = graph
    names = {}
    b.reserved = {_BAD.sub("_", lay.name)[:56] or "layer" for lay in order}
    problems: list[str] = []
    dtypes = set()
    tensor = {}  # keras layer name -> xnn node name of its output
    masks = masking.MaskState(recorded)  # keras layer name -> its Keras mask as an xnn node
    tensor[spec_input.pop("_keras_name")] = "input"
    for lay in order:
        lay.b = b
        lay.xname = b.fresh(lay.name, own=True)
        names[lay.name] = lay.xname
        d = _dtype_name(lay.cfg.get("dtype"))
        if d is not None:
            dtypes.add(d)
        try:
            if d not in (None, "float32", "float64"):
                lay.fail(f"dtype policy {d!r}: xnn runs float32 or float64 (mixed precision is not imported)")
            fn = CONVERTERS.get(lay.cls)
            if fn is None:
                lay.fail(HINTS.get(lay.cls, "no xnn equivalent"))
            xs = []
            for ref in producers[lay.name]:
                xs.append(tensor[ref])
            lay.args = [tensor[r] for r in lay._arg_refs]
            if fn not in _PAD_READERS or len(xs) != 1:  # only a convolution folds a ZeroPadding in
                xs = [b.materialize(x) if x in b.pads else x for x in xs]
                lay.args = [b.materialize(x) if x in b.pads else x for x in lay.args]
            lay.kwargs = {k: (tensor[v] if k in ("query", "value", "key") and isinstance(v, str) else v) for k, v in lay._kwargs.items()}
            b.current = lay.name
            tensor[lay.name] = masking.convert(b, lay, xs, list(producers[lay.name]), fn, masks)
        except Unsupported as e:
            problems.append(f"Keras layer {lay.name!r} ({lay.cls}): {e}")
            tensor[lay.name] = "input"  # keep walking: every problem is reported at once
    out_problem = masks.output_problem(order[-1].name, order[-1].cls)
    if out_problem and not any(p.startswith(f"Keras layer {order[-1].name!r} ") for p in problems):
        problems.append(out_problem)
    if problems:
        extra = len(problems) - MAX_LAYER_ERRORS
        problems = problems[:MAX_LAYER_ERRORS] + ([f"... and {extra} more"] if extra > 0 else [])
        raise FormatError(problems, source=where)
    if tensor[order[-1].name] in b.pads:
        tensor[order[-1].name] = b.materialize(tensor[order[-1].name])
    if not b.layers or b.layers[-1]["name"] != tensor[order[-1].name]:
        raise FormatError("the model's output is its input (no layer computes anything)")
    f64 = "float64" in dtypes
    spec = {"xnn": 1, "name": _BAD.sub("_", str(cfg.get("name") or "keras_model"))[:63] or "keras_model",
            "input": {**spec_input, "dtype": input_dtype}, "model": b.layers}
    if f64:
        spec["train"] = {"dtype": "float64"}
    return _finish(spec, b, where)


def _finish(spec: dict, b: Builder, where: str) -> tuple[dict, dict]:
    import os
    import sys

    if "keras" not in sys.modules:  # a file import: a quiet TensorFlow, as the CLI's other verbs
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    from ...backends.keras.lowering import lowerings
    from ...spec import from_dict
    from ...weights import check_params

    try:
        s = from_dict(spec)
    except SpecError as e:
        msgs = [m for m in e.messages if "cross_entropy needs at least 2" in m]
        if msgs and len(msgs) == len(e.messages):
            # a one-unit output (regression / binary): the default loss would make it invalid
            spec.setdefault("train", {})["loss"] = "mse"
            spec["train"]["metrics"] = ["mse"]
            return _finish(spec, b, where)
        raise FormatError([f"the imported model is not a valid xnn model: {m}" for m in e.messages]) from None
    low = lowerings()
    params: dict[str, np.ndarray] = {}
    nodes = s.node_map
    for name, (w, kname) in b.native.items():
        node = nodes[name]
        try:
            p = low[node.kind].from_native(node, w)
        except Exception as e:
            raise FormatError(f"Keras layer {kname!r}: its weights {[list(x.shape) for x in w]} do not match "
                              f"its config ({type(e).__name__})") from None
        for k, v in p.items():
            params[f"{name}.{k}"] = np.asarray(v, dtype=np.float64)
    try:
        check_params(params, s, source=where)
    except FormatError as e:
        raise FormatError([f"weights do not match the layers' configs: {m}" for m in e.messages]) from None
    return spec, params


# ------------------------------------------------------------------------------ graph shapes
def _input_entry(entry: dict) -> tuple[dict, str]:
    c = entry.get("config") or {}
    shape = c.get("batch_shape", c.get("batch_input_shape"))
    name = str(c.get("name") or "")
    if c.get("sparse") or c.get("ragged"):
        raise FormatError(f"input {name!r}: sparse/ragged inputs are not supported")
    return _input_shape(shape, name), _input_dtype(c.get("dtype"), name)


def _input_shape(shape, name: str) -> dict:
    if not isinstance(shape, list) or len(shape) < 2:
        raise FormatError(f"input {name!r}: batch shape {shape!r} has no per-sample axes")
    per = shape[1:]
    if not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in per):
        raise FormatError(f"input {name!r}: shape {per} must be fully known (xnn needs every per-sample "
                          f"dimension; rebuild the model with keras.Input(shape=...) of fixed sizes)")
    return {"shape": [int(d) for d in per], "_keras_name": name}


def _input_dtype(d, name: str) -> str:
    d = _dtype_name(d) or "float32"
    if d not in ("float32", "float64", "int32", "int64"):
        raise FormatError(f"input {name!r}: dtype {d!r} (xnn inputs are float32, float64, int32 or int64)")
    return d


def _sequential(cfg: dict, entries: list[dict]):
    if entries and entries[0].get("class_name") == "InputLayer":
        inp = _input_entry(entries[0])
        rest = entries[1:]
    else:
        shape = cfg.get("build_input_shape")
        if shape is None:
            raise FormatError("the Sequential model was never built (no input shape); build it or "
                              "start it with keras.Input(shape=...)")
        inp = (_input_shape(shape, "input"), _input_dtype(None, "input"))
        rest = entries
    b_dummy = Builder(lambda lay: [])
    order = []
    prev = inp[0]["_keras_name"]
    producers = {}
    for e in rest:
        lay = KerasLayer(e, b_dummy)
        if lay.cls == "InputLayer":
            raise FormatError("a Sequential model with a second InputLayer")
        lay._arg_refs, lay._kwargs = [prev], {}
        if lay.name in producers:
            raise FormatError(f"two layers are named {lay.name!r}")
        producers[lay.name] = [prev]
        order.append(lay)
        prev = lay.name
    if not order:
        raise FormatError("the model has no layers")
    return (order, producers), inp


def _functional(cfg: dict, entries: list[dict]):
    ins = _triples(cfg.get("input_layers"))
    outs = _triples(cfg.get("output_layers"))
    if len(ins) != 1:
        raise FormatError(f"the model has {len(ins)} inputs; xnn imports models with one input")
    if len(outs) != 1:
        raise FormatError(f"the model has {len(outs)} outputs; xnn imports models with one output")
    by_name: dict[str, dict] = {}
    for e in entries:
        n = str((e.get("config") or {}).get("name") or e.get("name") or "")
        if n in by_name:
            raise FormatError(f"two layers are named {n!r}")
        by_name[n] = e
    in_name, out_name = ins[0][0], outs[0][0]
    if in_name not in by_name or by_name[in_name].get("class_name") != "InputLayer":
        raise FormatError(f"input layer {in_name!r} is not an InputLayer of the model")
    if out_name not in by_name:
        raise FormatError(f"output layer {out_name!r} is not a layer of the model")
    if outs[0][1] != 0 or outs[0][2] != 0:
        raise FormatError(f"the output is tensor {outs[0][2]} of call {outs[0][1]} of {out_name!r}; "
                          f"xnn imports layers called once with one output")
    b_dummy = Builder(lambda lay: [])
    layers: dict[str, KerasLayer] = {}
    producers: dict[str, list[str]] = {}
    problems = []
    for n, e in by_name.items():
        if e.get("class_name") == "InputLayer":
            continue
        lay = KerasLayer(e, b_dummy)
        nodes = e.get("inbound_nodes") or []
        if not isinstance(nodes, list) or len(nodes) != 1 or not isinstance(nodes[0], dict):
            if isinstance(nodes, list) and len(nodes) > 1:
                problems.append(f"Keras layer {n!r} ({lay.cls}): called {len(nodes)} times (a shared layer); "
                                f"xnn nodes own their weights")
            continue
        call = nodes[0]
        args, kwargs = call.get("args") or [], call.get("kwargs") or {}
        if not isinstance(args, list) or not isinstance(kwargs, dict):
            raise FormatError(f"layer {n!r}: malformed inbound node")
        refs = _tensors(args)
        kw_refs = {}
        for k, v in kwargs.items():
            t = _tensors(v)
            if t:
                kw_refs[k] = t
        for r in refs + [t for ts in kw_refs.values() for t in ts]:
            if r[0] not in by_name:
                raise FormatError(f"layer {n!r}: its input {r[0]!r} is not a layer of the model")
            if r[1] != 0 or r[2] != 0:
                problems.append(f"Keras layer {n!r} ({lay.cls}): takes tensor {r[2]} of call {r[1]} of {r[0]!r}; "
                                f"xnn imports layers called once with one output")
        lay._arg_refs = [r[0] for r in refs]
        lay._kwargs = {}
        extra = []
        for k, ts in kw_refs.items():
            if lay.cls == "MultiHeadAttention" and k in ("query", "value", "key") and len(ts) == 1:
                lay._kwargs[k] = ts[0][0]
            else:
                extra.append(k)
        for k, v in kwargs.items():
            if k not in kw_refs:
                lay._kwargs[k] = v
        if extra:
            problems.append(f"Keras layer {n!r} ({lay.cls}): called with tensor argument(s) {', '.join(extra)}; "
                            f"not supported (masks are explicit SequenceMask nodes in xnn)")
        bad_kw = [k for k, v in kwargs.items() if k not in kw_refs and k not in ("mask", "training", "use_causal_mask")
                  and v not in (None, False)]
        if bad_kw:
            problems.append(f"Keras layer {n!r} ({lay.cls}): called with {', '.join(f'{k}={kwargs[k]!r}' for k in bad_kw)}; "
                            f"not supported")
        producers[n] = lay._arg_refs + [lay._kwargs[k] for k in ("query", "value", "key")
                                          if isinstance(lay._kwargs.get(k), str) and k in kw_refs]
        layers[n] = lay
    if problems:
        raise FormatError(problems)
    # the layers the output depends on, in the config's (topological) order
    need: set[str] = set()
    stack = [out_name]
    while stack:
        n = stack.pop()
        if n in need or n == in_name:
            continue
        need.add(n)
        if n not in layers:
            e = by_name.get(n)
            if e is not None and e.get("class_name") == "InputLayer":
                raise FormatError(f"the output depends on a second input {n!r}; xnn imports models with one input")
            raise FormatError(f"layer {n!r} has no inbound call")
        stack.extend(producers[n])
    order = [layers[n] for n in by_name if n in need]
    pos = {lay.name: i for i, lay in enumerate(order)}
    for lay in order:
        for r in producers[lay.name]:
            if r != in_name and pos[r] >= pos[lay.name]:
                raise FormatError(f"layer {lay.name!r} uses {r!r} before it is computed")
    inp = _input_entry(by_name[in_name])
    if not order:
        raise FormatError("the model's output is its input (no layer computes anything)")
    return (order, producers), inp
