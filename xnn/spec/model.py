"""The spec: parse (YAML/JSON/dict), validate (every error at once), resolve the graph, infer shapes.

No framework is imported here.
"""
from __future__ import annotations

import copy
import difflib
import hashlib
import json
import math
import re
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import SpecError
from . import registry
from .layer import Layer, Param, Shape, ShapeError
from .loader import check_tree, decode_utf8, loads_spec_text, read_spec_bytes
from .sections import DataSpec, InputSpec, ParallelSpec, SearchSpec, TrainSpec
from .strict import model_bytes_errors, strict_value_errors
from .sugar import activation_fns, activation_node

SPEC_VERSION = 1
_TOP = ("xnn", "name", "input", "model", "train", "data", "parallel", "search")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
MAX_NAME_CHARS = 256  # the spec's name is printed in summaries and tables
MAX_ERRORS = 100  # lines reported at once; a huge broken spec still ends in a readable report
MAX_HINTS = 20  # did-you-mean searches (each scans every node name)


@dataclass(frozen=True)
class Node:
    """A resolved graph node: its layer, input node names and shapes, and parameters."""

    name: str
    layer: Layer
    inputs: tuple[str, ...]
    in_shapes: tuple[Shape, ...]
    out_shape: Shape
    params: dict[str, Param]
    origin: str | None = None  # the composite node this one was expanded from

    @property
    def kind(self) -> str:
        return self.layer.kind


@dataclass
class Spec:
    """A validated spec. ``nodes`` is in topological order; ``output`` is the last node."""

    name: str
    input: InputSpec
    layers: list[Layer]
    train: TrainSpec
    data: DataSpec
    parallel: ParallelSpec
    nodes: list[Node]
    raw: dict  # the resolved dict (what spec.yaml in a run holds)
    source: str | None = None
    data_given: bool = True  # False: the spec had no data section (data must come from Python)
    _map: tuple = field(default=(None, None), repr=False, compare=False)

    @property
    def output(self) -> Node:
        return self.nodes[-1]

    @property
    def input_shape(self) -> Shape:
        return tuple(self.input.shape)

    @property
    def node_map(self) -> dict[str, Node]:
        # cached: callers look nodes up in loops (O(n) per call would make them quadratic)
        key = (id(self.nodes), len(self.nodes))
        if self._map[0] != key:
            self._map = (key, {n.name: n for n in self.nodes})
        return self._map[1]

    def param_shapes(self) -> dict[str, Param]:
        """``<node>.<param>`` -> Param, in node order."""
        return {f"{n.name}.{k}": p for n in self.nodes for k, p in n.params.items()}

    def n_params(self, trainable_only: bool = False) -> int:
        # Python ints: np.prod would wrap around int64 for absurd shapes
        return sum(math.prod(p.shape) for p in self.param_shapes().values() if p.trainable or not trainable_only)

    def to_dict(self) -> dict:
        return copy.deepcopy(self.raw)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.raw, sort_keys=False)

    def hash(self) -> str:
        return hashlib.sha256(json.dumps(self.raw, sort_keys=True).encode()).hexdigest()

    def with_overrides(self, overrides: list[str] | dict) -> "Spec":
        return from_dict(apply_overrides(self.to_dict(), overrides), source=self.source)


# ------------------------------------------------------------------------------- errors
def _loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _received(v: Any) -> str:
    s = repr(v[:80]) if isinstance(v, str) else _short_json(v, 80)
    return s if len(s) < 60 else s[:57] + "..."


def _short_json(v: Any, budget: int) -> str:
    """JSON-like text of ``v`` cut after about ``budget`` characters, without walking (or
    expanding the aliases of) the whole value."""
    if isinstance(v, dict):
        parts, used = [], 0
        for k, x in v.items():
            if used > budget:
                parts.append("...")
                break
            parts.append(f"{json.dumps(str(k))}: {_short_json(x, budget - used)}")
            used += len(parts[-1]) + 2
        return "{" + ", ".join(parts) + "}"
    if isinstance(v, (list, tuple)):
        parts, used = [], 0
        for x in v:
            if used > budget:
                parts.append("...")
                break
            parts.append(_short_json(x, budget - used))
            used += len(parts[-1]) + 2
        return "[" + ", ".join(parts) + "]"
    if isinstance(v, str):
        return json.dumps(v[:budget])
    try:
        return json.dumps(v)
    except (TypeError, ValueError):
        return str(v)[:budget]


def _fmt_pydantic(err: ValidationError, prefix: str, model: type[BaseModel] | None) -> list[str]:
    out = []
    for e in err.errors():
        loc = tuple(x for x in e["loc"] if not (isinstance(x, str) and x.startswith("function-")))
        # discriminated unions add the tag to the location: drop it
        loc = tuple(x for x in loc if x not in ("cross_entropy", "binary_cross_entropy", "mse", "mae", "huber", "sgd", "adam", "adamw", "rmsprop", "adagrad", "constant", "step", "exponential", "cosine"))
        path = prefix + ("." if prefix and loc and not isinstance(loc[0], int) else "") + _loc(loc)
        t, ctx = e["type"], e.get("ctx", {})
        if t == "extra_forbidden":
            known = _known_fields(model, loc[:-1]) if model else []
            hint = _spelling_hint(str(loc[-1]), known, getattr(model, "kind", "") if len(loc) == 1 else "")
            if hint is None:
                close = difflib.get_close_matches(str(loc[-1]), known, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
            out.append(f"{path}: unknown key{hint}")
            continue
        if t == "missing":
            out.append(f"{path}: required")
            continue
        msg = {
            "greater_than": lambda: f"must be > {ctx.get('gt')}",
            "greater_than_equal": lambda: f"must be >= {ctx.get('ge')}",
            "less_than": lambda: f"must be < {ctx.get('lt')}",
            "less_than_equal": lambda: f"must be <= {ctx.get('le')}",
            "literal_error": lambda: f"must be one of {ctx.get('expected')}",
            "union_tag_invalid": lambda: f"unknown type, must be one of {ctx.get('expected_tags')}"
            + _tag_hint(ctx.get("tag")),
        }.get(t, lambda: e["msg"][0].lower() + e["msg"][1:])()
        out.append(f"{path}: {msg} (received {_received(e.get('input'))})")
    return out


# Keras's and PyTorch's spellings of xnn's names (hints only: a spec has one spelling)
_KEY_SPELLINGS = {
    "learning_rate": "lr", "out_features": "units", "out_channels": "filters",
    "kernel": "kernel_size", "stride": "strides", "dilation_rate": "dilation", "bias": "use_bias",
    "p": "rate", "epsilon": "eps",
}
_TAG_SPELLINGS = {
    "categorical_crossentropy": "cross_entropy", "sparse_categorical_crossentropy": "cross_entropy",
    "crossentropy": "cross_entropy", "crossentropyloss": "cross_entropy", "nll_loss": "cross_entropy",
    "binary_crossentropy": "binary_cross_entropy", "bcewithlogitsloss": "binary_cross_entropy",
    "bceloss": "binary_cross_entropy", "mean_squared_error": "mse", "mseloss": "mse",
    "mean_absolute_error": "mae", "l1loss": "mae", "huber_loss": "huber", "huberloss": "huber",
    "smoothl1loss": "huber", "rms_prop": "rmsprop",
}


def _spelling_hint(key: str, known: list[str], kind: str) -> str | None:
    """A hint for a key that Keras or PyTorch spell this way; None: no such spelling."""
    cls = registry.layers().get(kind)
    if key == "activation" and cls is not None and not cls.activation_sugar:
        return (f" ({kind} has no activation: put an activation layer after it, e.g. '- relu' or "
                f"'{{type: Activation, fn: relu}}')")
    if key in ("in_features", "in_channels", "input_dim", "input_shape") and kind:
        return f" ({kind} takes its input size from the node before it: leave it out)"
    alt = _KEY_SPELLINGS.get(key)
    if alt is not None and alt != key and alt in known:
        return f" (xnn calls it '{alt}')"
    return None


def _tag_hint(tag: Any) -> str:
    alt = _TAG_SPELLINGS.get(str(tag).lower()) if tag is not None else None
    return f" (xnn calls it '{alt}')" if alt else ""


def _known_fields(model: type[BaseModel], loc: tuple) -> list[str]:
    m: Any = model
    for part in loc:
        if isinstance(part, int) or m is None:
            continue
        f = getattr(m, "model_fields", {}).get(part)
        if f is None:
            return []
        ann = f.annotation
        m = ann if isinstance(ann, type) and issubclass(ann, BaseModel) else None
        if m is None:
            args = getattr(ann, "__args__", ())
            m = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return list(getattr(m, "model_fields", {})) if m else []


# ------------------------------------------------------------------------------- loading
def read_spec_file(path: str | Path) -> dict:
    """Read YAML or JSON (safe loaders only). Raises SpecError naming the file."""
    p = Path(path)
    if not p.exists():
        raise SpecError(f"{p}: no such file")
    if p.is_dir():
        if (p / "spec.yaml").exists():
            p = p / "spec.yaml"
        else:
            raise SpecError(f"{p}: is a folder without spec.yaml")
    text = decode_utf8(read_spec_bytes(p), str(p))
    data = loads_spec_text(text, str(p), fmt="json" if p.suffix.lower() == ".json" else "yaml")
    if not isinstance(data, dict):
        raise SpecError(f"{p}: top level must be a mapping with input, model, train... (received {type(data).__name__})")
    return data


def load_spec(src: str | Path | dict, overrides: list[str] | dict | None = None) -> Spec:
    """Load and validate a spec from a file (YAML/JSON), a run folder, or a dict.

    ``overrides`` are ``dotted.path=value`` strings (values parsed as YAML) or a dict of them.
    """
    source = None
    bounded = False
    if isinstance(src, (str, Path)):
        source = str(src)
        data = read_spec_file(src)
        bounded = not overrides  # --set values are checked again with the whole spec
    else:
        check_tree(src)  # bounded before deepcopy walks it (shared objects count each time)
        data = copy.deepcopy(src)
    if overrides:
        try:
            data = apply_overrides(data, overrides)
        except SpecError as e:
            raise SpecError(e.messages, source=source) from None
    return from_dict(data, source=source, bounded=bounded)


def apply_overrides(data: dict, overrides: list[str] | dict) -> dict:
    """Set ``a.b[2].c=value`` paths in a spec dict; values are parsed as YAML."""
    data = copy.deepcopy(data)
    items = overrides.items() if isinstance(overrides, dict) else [_split_override(o) for o in overrides]
    errors = []
    for path, value in items:
        if isinstance(value, str) and not isinstance(overrides, dict):
            value = loads_spec_text(value, f"--set {path}") if value != "" else ""
        parts = _parse_path(path)
        cur: Any = data
        try:
            for i, part in enumerate(parts[:-1]):
                nxt = parts[i + 1]
                if isinstance(cur, dict) and part not in cur:
                    cur[part] = [] if isinstance(nxt, int) else {}
                cur = cur[part]
            last = parts[-1]
            if isinstance(cur, list) and isinstance(last, int) and last >= len(cur):
                raise IndexError
            cur[last] = value
        except (IndexError, KeyError, TypeError):
            errors.append(f"--set {path}: no such place in the spec")
    if errors:
        raise SpecError(errors)
    return data


def _split_override(o: str) -> tuple[str, str]:
    if "=" not in o:
        raise SpecError(f"--set {o}: expected dotted.path=value")
    k, v = o.split("=", 1)
    return k.strip(), v


def _parse_path(path: str) -> list:
    out: list = []
    for part in path.replace("]", "").replace("[", ".").split("."):
        if part == "":
            continue
        out.append(int(part) if part.lstrip("-").isdigit() else part)
    return out


def from_dict(data: dict, source: str | None = None, bounded: bool = False) -> Spec:
    """Validate a spec dict: every error at once, then graph resolution and shape inference.

    ``bounded``: ``data`` comes from :mod:`.loader`, which already bounded its size and depth."""
    errors: list[str] = []
    if not isinstance(data, dict):
        raise SpecError("spec must be a mapping", source=source)
    if not bounded:
        check_tree(data, source)
    for k in data:
        if k not in _TOP:
            close = difflib.get_close_matches(str(k), _TOP, n=1)
            errors.append(f"{k}: unknown key" + (f" (did you mean '{close[0]}'?)" if close else ""))
    version = data.get("xnn", SPEC_VERSION)
    if version != SPEC_VERSION:
        errors.append(f"xnn: spec format version must be {SPEC_VERSION} (received {_received(version)})")

    # the training dtype first: float fields everywhere are checked against its range
    dtype = _dtype_of(data.get("train"))

    def section(key, cls, required=False):
        v = data.get(key)
        if v is None:
            if required:
                errors.append(f"{key}: required")
                return None
            v = {}
        if not isinstance(v, dict):
            errors.append(f"{key}: must be a mapping (received {_received(v)})")
            return None
        try:
            out = cls.model_validate(v)
        except ValidationError as e:
            errors.extend(_fmt_pydantic(e, key, cls))
            return None
        bad = strict_value_errors(v, out, key, dtype if key == "train" else None)
        errors.extend(bad)
        return None if bad else out

    inp = section("input", InputSpec, required=True)
    train = section("train", TrainSpec)
    dspec = section("data", DataSpec)
    par = section("parallel", ParallelSpec)
    search = section("search", SearchSpec) if data.get("search") is not None else None  # xnn tune
    search_bad: list[str] = []
    if search is not None:
        from ..tune.space import dist_errors

        search_bad = dist_errors(search)  # reported with the rest; its valid paths are checked below
    name = data.get("name", "model")
    if not isinstance(name, str) or not name or len(name) > MAX_NAME_CHARS:
        errors.append(f"name: must be a text of 1 to {MAX_NAME_CHARS} characters (received {_received(name)})")
    entries = _parse_layers(data.get("model"), errors, dtype)
    if inp is None or not entries:
        raise _spec_error(errors + search_bad, source)
    # the graph is resolved even after field errors: a broken node stands in with what its
    # valid fields determine, so one run reports every independent mistake
    graph_ok = not errors
    nodes = _resolve(entries, inp, errors)
    graph_ok = graph_ok and not errors
    if graph_ok:
        errors.extend(model_bytes_errors(nodes, train.dtype if train is not None else "float32"))
    if train is not None:
        names = {n.name for n in nodes} | {e.name for e in entries if e.name}
        for i, f in enumerate(train.frozen):
            if f not in names:
                errors.append(f"train.frozen[{i}]: no node named {f!r}")
        if graph_ok and isinstance(train.class_weights, list) and nodes and len(train.class_weights) != nodes[-1].out_shape[-1]:
            errors.append(f"train.class_weights: needs one weight per class ({nodes[-1].out_shape[-1]}) (received {len(train.class_weights)})")
    if errors:
        raise _spec_error(errors + search_bad, source)
    layers = [e.layer for e in entries]
    raw = {
        "xnn": SPEC_VERSION,
        "name": name,
        "input": inp.model_dump(),
        "model": [_layer_dump(layer) for layer in layers],
        "train": _without_none(train.model_dump(mode="json"), ("tensorboard",)),
        "data": dspec.model_dump(mode="json"),
        "parallel": par.model_dump(mode="json"),
    }
    spec = Spec(name=raw["name"], input=inp, layers=layers, train=train, data=dspec, parallel=par,
                nodes=nodes, raw=raw, source=source, data_given=data.get("data") is not None)
    from .checks import check_spec  # cross-section checks that need the graph

    errors = check_spec(spec)
    if search is not None:  # each valid searched path at its bounds and choices
        from ..tune.space import space_errors

        errors = errors + search_bad + ([] if errors else space_errors(search, raw, data, spec.data_given))
        raw["search"] = search.model_dump(mode="json")
    if errors:
        raise _spec_error(errors, source)
    return spec


def _spec_error(errors: list[str], source: str | None) -> SpecError:
    """Every error, up to MAX_ERRORS lines (and a count of the rest)."""
    if len(errors) > MAX_ERRORS:
        errors = errors[:MAX_ERRORS] + [f"... and {len(errors) - MAX_ERRORS} more errors"]
    return SpecError(errors, source=source)


def _without_none(d: dict, keys: tuple[str, ...]) -> dict:
    """``d`` without the optional sections ``keys`` that are unset, so specs written before those
    fields existed keep their hash (resume, predict and evaluate compare it)."""
    return {k: v for k, v in d.items() if not (k in keys and v is None)}


def _layer_dump(layer: Layer) -> dict:
    d = layer.model_dump(mode="json")
    if d.get("inputs") is None:
        d.pop("inputs")
    if d.get("trainable") is True:
        d.pop("trainable")
    return d


def _dtype_of(train: Any) -> str | None:
    d = train.get("dtype", "float32") if isinstance(train, dict) else "float32"
    return d if isinstance(d, str) else None


@dataclass
class _Entry:
    """One ``model[i]`` as parsed: its name (when valid) and its layer, or a stand-in layer
    (``broken``) built from its valid fields when the invalid ones do not decide its output
    shape, or None when nothing about its output is known."""

    index: int
    name: str | None
    layer: Layer | None
    broken: bool = False


def node_where(index: int, name: str | None, kind: str | None = None, origin: str | None = None) -> str:
    """The ``; node NAME (Kind)`` tail of an error line about ``model[index]``."""
    if not name:
        return ""
    if origin and origin != name:
        return f"; node {origin} (part {name}{', ' + kind if kind else ''})"
    return f"; node {name} ({kind})" if kind else f"; node {name}"


def _top_fields(msgs: list[str], path: str) -> set[str]:
    """The top-level field names that error lines under ``path`` are about."""
    out = set()
    for m in msgs:
        rest = m[len(path):]
        if not rest.startswith("."):
            out.add("")  # about the whole node
            continue
        out.add(re.split(r"[.\[:]", rest[1:], maxsplit=1)[0])
    return out


def _stand_in(cls: type[Layer], entry: dict, bad: set[str], unknown: set[str]) -> Layer | None:
    """``entry`` without its ``bad`` fields, if what remains still fixes the output shape:
    unknown keys never matter, other fields only where the class lists the fields its shape
    depends on (``shape_fields``) and none of them is bad."""
    if "" in bad or bad & {"type", "name", "inputs"}:
        return None
    relevant = bad - unknown
    sf = cls.output_fields()
    if relevant and (sf is None or relevant & set(sf)):
        return None
    try:
        return cls.model_validate({k: v for k, v in entry.items() if k not in bad})
    except (ValidationError, ValueError, TypeError):
        return None


def _parse_layers(model: Any, errors: list[str], dtype: str | None = None) -> list[_Entry]:
    if model is None:
        errors.append("model: required (a list of layers)")
        return []
    if not isinstance(model, list) or not model:
        errors.append(f"model: must be a non-empty list of layers (received {_received(model)})")
        return []
    entries: list[_Entry] = []
    used: dict[str, int] = {}
    counts: dict[str, int] = {}
    renamed: dict[str, str] = {}  # node -> the activation node its ``activation:`` added
    work = deque((i, e, f"model[{i}]") for i, e in enumerate(model))
    while work:
        i, entry, path = work.popleft()
        if isinstance(entry, str):
            entry = {"type": entry}
        if renamed and isinstance(entry, dict) and isinstance(entry.get("inputs"), list) and not path.endswith(".activation"):
            entry = {**entry, "inputs": [renamed.get(x, x) if isinstance(x, str) else x for x in entry["inputs"]]}
        if not isinstance(entry, dict):
            errors.append(f"{path}: must be a mapping with a type (received {_received(entry)})")
            entries.append(_Entry(i, None, None, True))
            continue
        raw_name = entry.get("name")
        tail = node_where(i, raw_name) if isinstance(raw_name, str) and _NAME_RE.fullmatch(raw_name) else ""
        t = entry.get("type")
        if t is None:
            errors.append(f"{path}.type: required{tail}")
            entries.append(_Entry(i, raw_name if tail else None, None, True))
            continue
        try:
            cls, fixed = registry.resolve_type(str(t))
        except KeyError as e:
            errors.append(f"{path}.type: {e.args[0]} (received {_received(t)}){tail}")
            entries.append(_Entry(i, raw_name if tail else None, None, True))
            continue
        entry = {**entry, **fixed, "type": cls.kind}
        base = cls.kind.lower()
        if not entry.get("name"):
            counts[base] = counts.get(base, 0) + 1
            entry["name"] = f"{base}{counts[base]}"
        name = entry["name"]
        if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
            errors.append(f"{path}.name: must be a letter or _ followed by letters, digits or _ (received {_received(name)})")
            entries.append(_Entry(i, None, None, True))
            continue
        tail = node_where(i, name, cls.kind)
        if name in used or name == "input":
            errors.append(f"{path}.name: duplicate or reserved node name (received {name!r}){tail}")
        used[name] = i
        if "activation" in entry and cls.activation_sugar:  # Keras's Dense(..., activation=...)
            act, bad = activation_node(entry["activation"], path, name, activation_fns())
            errors.extend(m + tail for m in bad)
            entry = {k: v for k, v in entry.items() if k != "activation"}
            if act is not None:
                work.appendleft((i, act, f"{path}.activation"))
                renamed[name] = act["name"]
        try:
            layer = cls.model_validate(entry)
        except ValidationError as e:
            msgs = _fmt_pydantic(e, path, cls)
            errors.extend(m + tail for m in msgs)
            unknown = {str(x["loc"][0]) for x in e.errors() if x["type"] == "extra_forbidden" and len(x["loc"]) == 1}
            stand = _stand_in(cls, entry, _top_fields(msgs, path) | unknown, unknown)
            entries.append(_Entry(i, name, stand, True))
            continue
        bad = strict_value_errors(entry, layer, path, dtype)
        errors.extend(m + tail for m in bad)
        if bad:
            stand = _stand_in(cls, entry, _top_fields(bad, path), set())
            entries.append(_Entry(i, name, stand, True))
        else:
            entries.append(_Entry(i, name, layer))
    return entries


def _resolve(entries: list[_Entry], inp: InputSpec, errors: list[str]) -> list[Node]:
    """Wire inputs (default: previous node), check order and arity, infer shapes.

    A node with an error does not hide later ones where its output shape is still known: a
    broken entry's stand-in layer, or ``fallback_shape`` after a shape error (a Dense's units,
    a Conv's filters and spatial rule). Only nodes fed by a node of unknown shape are skipped."""
    shapes: dict[str, Shape] = {"input": tuple(inp.shape)}
    nodes: list[Node] = []
    prev = "input"
    failed: set[str] = set()  # nodes of unknown output shape: their dependants are not checked
    declared = {e.name for e in entries if e.name}
    hints = [MAX_HINTS]  # did-you-mean searches left (each one scans every name)
    work = deque((e.index, e.layer, None, e) for e in entries)
    while work:
        index, layer, origin, entry = work.popleft()
        if layer is None:  # nothing known about this node's output
            prev = entry.name if entry.name else f"#model[{index}]"
            failed.add(prev)
            continue
        path = f"model[{index}]"
        tail = node_where(index, layer.name, layer.kind, origin)
        broken = entry is not None and entry.broken
        ins = tuple(layer.inputs) if layer.inputs is not None else (prev,)
        lo, hi = layer.arity
        if len(ins) < lo or (hi is not None and len(ins) > hi):
            want = f"{lo}" if lo == hi else f"{lo}..{hi if hi is not None else 'n'}"
            errors.append(f"{path}.inputs: {layer.kind} takes {want} inputs (received {len(ins)}){tail}")
            prev = layer.name
            failed.add(layer.name)
            continue
        if any(x in failed for x in ins):
            prev = layer.name
            failed.add(layer.name)
            continue
        bad = [x for x in ins if x not in shapes]
        if bad:
            for b in bad:
                later = " (it is defined later: nodes must come after their inputs)" if b in declared else _hint(b, shapes, hints)
                errors.append(f"{path}.inputs: no earlier node named {b!r}{later}{tail}")
            prev = layer.name
            failed.add(layer.name)
            continue
        in_shapes = [shapes[x] for x in ins]
        try:
            out = tuple(int(d) for d in layer.infer(in_shapes))
            params = layer.params(in_shapes)
            if registry.class_has(type(layer), "expand"):  # a composite: resolve its parts in its place
                subs = layer.expand(list(ins), in_shapes)
                clash = [x.name for x in subs if x.name in shapes or (x.name in declared and x.name != layer.name)]
                if clash:
                    raise ShapeError(f"its parts' names {clash} are taken by other nodes", "name")
                work.extendleft((index, sub, origin or layer.name, entry) for sub in reversed(subs))
                continue
        except ShapeError as e:
            where = f"{path}.{e.field}" if e.field else path
            errors.append(f"{where}: {e} (input shapes {[list(s) for s in in_shapes]}){tail}")
            prev = layer.name
            fb = _fallback(layer, in_shapes)
            if fb is None:
                failed.add(layer.name)
            else:
                shapes[layer.name] = fb
            continue
        shapes[layer.name] = out
        if not broken:
            nodes.append(Node(layer.name, layer, ins, tuple(in_shapes), out, params, origin))
        prev = layer.name
    used = {x for n in nodes for x in n.inputs}
    if not errors:
        dangling = [n.name for n in nodes[:-1] if n.name not in used]
        for d in dangling:
            errors.append(f"model: node {d!r} is not used by any later node (the last node is the output)")
    return nodes


def _fallback(layer: Layer, in_shapes: list[Shape]) -> Shape | None:
    """The output shape a layer's own fields fix although ``infer`` refused its inputs."""
    try:
        fb = layer.fallback_shape(in_shapes)
        return None if fb is None else tuple(int(d) for d in fb)
    except (ShapeError, ValueError, TypeError, IndexError):
        return None


def _hint(name: str, known: dict, budget: list[int]) -> str:
    """`` (did you mean 'x'?)`` for the first MAX_HINTS unknown names (difflib is slow on big graphs)."""
    if budget[0] <= 0:
        return ""
    budget[0] -= 1
    close = difflib.get_close_matches(name, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""

