"""The ``search`` section: what ``xnn tune`` varies, checked without optuna or a framework.

Every key of ``search`` other than its options (:class:`xnn.spec.sections.SearchSpec`) is a
dotted spec path, written like ``--set`` paths (``train.optimizer.lr``, ``model[2].units``) or
with a node's name (``model.fc.units``), mapped to one distribution::

    {uniform: [lo, hi]}            # float, optional step
    {loguniform: [lo, hi]}         # float on a log scale, lo > 0
    {int: [lo, hi]}                # integer, optional step (default 1), optional log: true
    {choice: [a, b, ...]}          # any spec values (numbers, text, lists, mappings)

``xnn validate`` checks each distribution, then sets each path (with ``apply_overrides``, the
``--set`` machinery) to its bounds (``int``: the highest value its step reaches) and to every
choice, and validates the spec each time. Combinations of values are not checked (they are
exponentially many); a trial whose combination is invalid fails with the spec's error.

Setting a ``...type`` path (``train.optimizer.type``, ``model[3].type``) to another type keeps
the fields the user wrote for that mapping which the new type also has; the others take the new
type's defaults (a node keeps its ``name`` and ``inputs``). Paths under the same mapping are
set after its ``type``.
"""
from __future__ import annotations

import copy
import difflib
import json
import math
import typing
from dataclasses import dataclass
from typing import Any

KINDS = ("uniform", "loguniform", "int", "choice")
DIST_KEYS = (*KINDS, "step", "log")
MAX_DIMS = 64  # searched paths in one spec (each is validated twice or once per choice)
MAX_CHOICES = 256


@dataclass(frozen=True)
class Dim:
    """One searched path: ``kind`` uniform | loguniform | int | choice."""

    path: str
    kind: str
    lo: float | int | None = None
    hi: float | int | None = None
    step: float | int | None = None
    log: bool = False
    choices: tuple = ()

    def top(self):
        """The largest value a bounded dimension reaches (its step may stop below ``hi``)."""
        if self.kind in ("int", "uniform") and self.step is not None:
            n = math.floor((self.hi - self.lo) / self.step + 1e-9)
            v = self.lo + n * self.step
            return int(v) if self.kind == "int" else float(v)
        return self.hi

    def probe_values(self) -> list:
        """The values ``xnn validate`` tries: both ends, or every choice."""
        if self.kind == "choice":
            return list(self.choices)
        return [self.lo, self.top()]

    def describe(self) -> str:
        if self.kind == "choice":
            return "choice of " + ", ".join(_fmt(c) for c in self.choices)
        extra = f", step {_fmt(self.step)}" if self.step is not None else ""
        extra += ", log" if self.log and self.kind == "int" else ""
        return f"{self.kind} [{_fmt(self.lo)}, {_fmt(self.hi)}]{extra}"


def _fmt(v: Any) -> str:
    if isinstance(v, str):
        return v
    if isinstance(v, float):
        return f"{v:g}"
    return json.dumps(v) if isinstance(v, (list, dict, bool)) or v is None else str(v)


def _received(v: Any) -> str:
    try:
        s = json.dumps(v)
    except (TypeError, ValueError):
        s = repr(v)
    return s if len(s) < 60 else s[:57] + "..."


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# ------------------------------------------------------------------------------ distributions
def paths_of(search) -> dict[str, Any]:
    """The searched paths of a validated :class:`SearchSpec` (its extra keys), in order."""
    return dict(search.model_extra or {})


def dims_of(search) -> list[Dim]:
    """The dimensions of a search section whose distributions are valid (see :func:`dist_errors`)."""
    return [_dim(p, d) for p, d in paths_of(search).items() if not _path_errors(p, d)]


def _dim(path: str, d: dict) -> Dim:
    kind = next(k for k in KINDS if k in d)
    if kind == "choice":
        return Dim(path, kind, choices=tuple(d["choice"]))
    lo, hi = d[kind]
    step = d.get("step")
    return Dim(path, kind, lo, hi, step, bool(d.get("log", False)))


def dist_errors(search) -> list[str]:
    """One line per malformed distribution of a :class:`SearchSpec` (no spec needed)."""
    paths = paths_of(search)
    if not paths:
        return [("search: names no spec path to vary; add e.g. 'train.optimizer.lr: {loguniform: [1e-4, 1e-1]}' "
                "(docs/tuning.md)")]
    if len(paths) > MAX_DIMS:
        return [f"search: {len(paths)} searched paths; at most {MAX_DIMS}"]
    return [m for path, d in paths.items() for m in _path_errors(path, d)]


def _path_errors(path: str, d: Any) -> list[str]:
    from ..spec.sections import SearchSpec

    where = f"search.{path}"
    if not any(c in path for c in ".[") and not isinstance(d, dict):
        options = list(SearchSpec.model_fields)
        close = difflib.get_close_matches(path, options, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return [(f"{where}: unknown option{hint}; options are {options}, any other key is a dotted spec "
                f"path such as train.optimizer.lr mapped to a distribution")]
    if path.split(".")[0].split("[")[0] in ("search", "xnn"):
        return [f"{where}: cannot be searched"]
    if not isinstance(d, dict):
        return [(f"{where}: must be a distribution: {{uniform: [lo, hi]}}, {{loguniform: [lo, hi]}}, "
                f"{{int: [lo, hi]}} or {{choice: [a, b, ...]}} (received {_received(d)})")]
    errors = []
    bad_keys = [k for k in d if k not in DIST_KEYS]
    for k in bad_keys:
        close = difflib.get_close_matches(str(k), DIST_KEYS, n=1)
        errors.append(f"{where}.{k}: unknown key" + (f" (did you mean '{close[0]}'?)" if close else "")
                      + f"; a distribution has one of {list(KINDS)} (and step, log)")
    kinds = [k for k in KINDS if k in d]
    if len(kinds) != 1:
        if not bad_keys:
            errors.append(f"{where}: needs exactly one of {list(KINDS)} (received {sorted(map(str, d))})")
        return errors or [f"{where}: needs exactly one of {list(KINDS)}"]
    return errors + _one_dist(where, kinds[0], d)


def _one_dist(where: str, kind: str, d: dict) -> list[str]:
    v = d[kind]
    step, log = d.get("step"), d.get("log")
    if kind == "choice":
        out = []
        if not isinstance(v, list):
            return [f"{where}.choice: must be a list of values (received {_received(v)})"]
        if not v:
            return [f"{where}.choice: empty: list at least one value"]
        if len(v) > MAX_CHOICES:
            return [f"{where}.choice: {len(v)} values; at most {MAX_CHOICES}"]
        seen = []
        for i, c in enumerate(v):
            key = json.dumps(c, sort_keys=True, default=str)
            if key in seen:
                out.append(f"{where}.choice[{i}]: {_received(c)} is listed twice")
            seen.append(key)
        if step is not None or log is not None:
            out.append(f"{where}: step and log apply to uniform/int ranges, not to choice")
        return out
    want_int = kind == "int"
    ok = isinstance(v, list) and len(v) == 2 and all(
        _number(x) and (not want_int or isinstance(x, int)) for x in v)
    if not ok:
        what = "two integers" if want_int else "two finite numbers"
        return [f"{where}.{kind}: must be [lo, hi], {what} (received {_received(v)})"]
    lo, hi = v
    out = []
    if lo > hi:
        out.append(f"{where}.{kind}: inverted bounds: lo {_fmt(lo)} > hi {_fmt(hi)}")
    elif lo == hi:
        out.append(f"{where}.{kind}: lo == hi ({_fmt(lo)}): nothing to search; set the value in the spec instead")
    if kind == "loguniform" and lo <= 0:
        out.append(f"{where}.loguniform: lo must be > 0 on a log scale (received {_fmt(lo)})")
    if step is not None:
        if kind == "loguniform":
            out.append(f"{where}.step: not with loguniform (a log scale has no even step)")
        elif not _number(step) or step <= 0 or (want_int and not isinstance(step, int)):
            out.append(f"{where}.step: must be a positive {'integer' if want_int else 'number'} (received {_received(step)})")
        elif lo < hi and step > hi - lo:
            out.append(f"{where}.step: {_fmt(step)} is larger than the range {_fmt(lo)}..{_fmt(hi)}")
    if log is not None:
        if kind != "int":
            out.append(f"{where}.log: only for int ranges (use loguniform for floats)")
        elif not isinstance(log, bool):
            out.append(f"{where}.log: must be true or false (received {_received(log)})")
        elif log and lo < 1:
            out.append(f"{where}.int: lo must be >= 1 with log: true (received {_fmt(lo)})")
        elif log and step not in (None, 1):
            out.append(f"{where}.step: a log-scale int range has step 1")
    return out


# ------------------------------------------------------------------------------ paths
def resolve_path(path: str, raw: dict) -> list:
    """``path`` as a list of keys/indices into the resolved spec ``raw``; ``model.<name>`` is the
    node of that name. ValueError with a one-line reason when it names no node."""
    from ..spec.model import _parse_path

    parts = _parse_path(path)
    if not parts:
        raise ValueError("empty path")
    if parts[0] == "model" and len(parts) > 1 and isinstance(parts[1], str):
        names = [e.get("name") for e in raw.get("model", []) if isinstance(e, dict)]
        if parts[1] not in names:
            close = difflib.get_close_matches(parts[1], [n for n in names if n], n=1)
            raise ValueError(f"no node named {parts[1]!r}" + (f" (did you mean '{close[0]}'?)" if close else ""))
        parts = ["model", names.index(parts[1]), *parts[2:]]
    return parts


def _dotted(parts: list) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else ("." if out else "") + str(p)
    return out


def _get(d: Any, parts: list) -> Any:
    for p in parts:
        if isinstance(d, dict) and p in d or isinstance(d, list) and isinstance(p, int) and -len(d) <= p < len(d):
            d = d[p]
        else:
            raise KeyError(p)
    return d


def _exists(d: Any, parts: list) -> bool:
    try:
        _get(d, parts)
        return True
    except KeyError:
        return False


def _type_fields(parent: list, value: Any) -> set[str] | None:
    """The fields a mapping of type ``value`` at ``parent`` has (None: unknown type or place)."""
    from ..spec import registry, sections

    if len(parent) == 2 and parent[0] == "model" and isinstance(parent[1], int):
        try:
            cls, fixed = registry.resolve_type(str(value))
        except KeyError:
            return None
        return set(cls.model_fields) - set(fixed)
    unions = {("train", "loss"): sections.Loss, ("train", "optimizer"): sections.Optimizer,
              ("train", "schedule"): sections.Schedule}
    u = unions.get(tuple(parent))
    if u is None:
        return None
    for cls in typing.get_args(typing.get_args(u)[0]):
        if cls.model_fields["type"].default == value:
            return set(cls.model_fields)
    return None


def apply_values(raw: dict, values: dict[str, Any], user: dict | None = None) -> dict:
    """``raw`` (a resolved spec dict, no ``search``) with each searched path set to its value.

    ``user`` is the spec as written (before defaults were filled in): a ``type`` switch keeps the
    fields written there that the new type has. SpecError/ValueError name the path."""
    from ..errors import SpecError
    from ..spec.model import apply_overrides

    resolved = []
    for path, v in values.items():
        try:
            resolved.append((path, resolve_path(path, raw), v))
        except ValueError as e:
            raise SpecError(f"search.{path}: {e}") from None
    # a mapping's type first (it may replace the mapping), then the paths inside it
    resolved.sort(key=lambda t: (t[1][-1] != "type", len(t[1])))
    d = copy.deepcopy(raw)
    for path, parts, v in resolved:
        if parts[-1] == "type" and len(parts) > 1 and _exists(d, parts[:-1]):
            parent = _get(d, parts[:-1])
            if isinstance(parent, dict) and parent.get("type") != v:
                fields = _type_fields(parts[:-1], v)
                written = _get(user, parts[:-1]) if user is not None and _exists(user, parts[:-1]) else {}
                written = written if isinstance(written, dict) else {}
                new = {"type": v}
                if parts[0] == "model":
                    new.update({k: parent[k] for k in ("name", "inputs") if parent.get(k) is not None})
                if fields is not None:
                    new.update({k: x for k, x in written.items() if k in fields and k not in new})
                container = _get(d, parts[:-2]) if len(parts) > 2 else d
                container[parts[-2]] = new
                continue
        try:
            d = apply_overrides(d, {_dotted(parts): v})
        except SpecError:
            n = len(raw.get("model") or [])
            hint = (f" (model has {n} entries, model[0] to model[{n - 1}])"
                    if parts[0] == "model" and len(parts) > 1 and isinstance(parts[1], int) and parts[1] >= n else "")
            raise SpecError(f"search.{path}: no such place in the spec{hint}") from None
    return d


# ------------------------------------------------------------------------------ checks with the spec
def metric_choices(raw: dict) -> list[str]:
    ms = list(raw.get("train", {}).get("metrics", []))
    return ["val_loss", "loss", *[f"val_{m}" for m in ms], *ms]


def direction_of(search) -> str:
    if search.direction is not None:
        return search.direction
    m = search.metric.removeprefix("val_")
    return "minimize" if m in ("loss", "mae", "mse") else "maximize"


def space_errors(search, raw: dict, user: dict | None = None, data_given: bool = True) -> list[str]:
    """Checks that need the validated spec ``raw`` (without ``search``): the metric, each path
    exists and the spec stays valid at each bound and choice. One line per problem."""
    from ..errors import SpecError
    from ..spec.model import from_dict

    errors = []
    choices = metric_choices(raw)
    if search.metric not in choices:
        close = difflib.get_close_matches(search.metric, choices, n=1)
        errors.append(f"search.metric: must be one of {choices} (the loss or a train.metrics entry)"
                      + (f" (did you mean '{close[0]}'?)" if close else "") + f" (received {search.metric!r})")
    elif search.metric.startswith("val_") and data_given and not raw.get("data", {}).get("split", {}).get("val"):
        errors.append(f"search.metric: {search.metric} needs a validation split, and data.split.val is 0 "
                      f"(set data.split.val, or search on the training {search.metric[4:]})")
    for dim in dims_of(search):
        where = f"search.{dim.path}"
        try:
            parts = resolve_path(dim.path, raw)
        except ValueError as e:
            errors.append(f"{where}: {e}")
            continue
        known = _exists(raw, parts)
        for v in dim.probe_values():
            what = "choice" if dim.kind == "choice" else ("lower bound" if v == dim.lo else "upper bound")
            try:
                from_dict(apply_values(raw, {dim.path: v}, user))
            except SpecError as e:
                msgs = [m for m in e.messages if m]
                first = msgs[0] if msgs else "invalid"
                if first.startswith("search."):
                    errors.append(first)
                elif not known:
                    errors.append(f"{where}: no such field in the spec ({first})")
                else:
                    more = f" (and {len(msgs) - 1} more)" if len(msgs) > 1 else ""
                    errors.append(f"{where}: the spec is invalid at the {what} {_fmt(v)}: {first}{more}")
                if not known:
                    break  # an unknown place: one line, not one per value
    return errors
