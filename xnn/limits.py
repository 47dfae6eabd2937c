"""Explicit limits on what an untrusted file may ask for, checked before anything is allocated,
and the one hardened JSON reader every path uses (manifest.json, state.json, spec_json in a .mat,
metadata in an ONNX file). docs/security.md lists every limit and how to raise it.

Every limit can be raised through an environment variable ``XNN_LIMIT_<NAME>`` (e.g.
``XNN_LIMIT_MAX_ARRAY_BYTES=8e9``) for users who trust a large file.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .errors import FormatError

_DEFAULTS: dict[str, int] = {
    "MAX_SPEC_BYTES": 16 * 2**20,  # a spec file (YAML/JSON)
    "MAX_SPEC_NODES": 400_000,  # YAML/JSON values (aliases counted expanded) in one spec; 20,000 layers use ~140k
    "MAX_YAML_ALIASES": 1_000,  # alias (*name) uses in one YAML document
    "MAX_NESTING": 100,  # nesting depth of a spec / JSON document
    "MAX_JSON_BYTES": 64 * 2**20,  # manifest.json, state.json, metadata strings
    "MAX_ARRAY_BYTES": 2 * 2**30,  # one array read from a data / weights / .mat / ONNX file
    "MAX_ARRAY_DIMS": 32,  # rank of one array
    "MAX_FOLDED_BYTES": 256 * 2**20,  # one constant produced by ONNX constant folding (all together: 4x)
    "MAX_ONNX_NODES": 100_000,  # nodes + initializers in all graphs and local functions of one ONNX file
    "MAX_MODEL_BYTES": 8 * 2**30,  # parameters of one model (validate refuses larger)
    "MAX_CSV_CELL_BYTES": 4096,  # one CSV cell
}


def limit(name: str) -> int:
    """The limit ``name`` (see ``_DEFAULTS``), raised by ``XNN_LIMIT_<name>`` when set."""
    env = os.environ.get(f"XNN_LIMIT_{name}")
    if env:
        try:
            return int(float(env))
        except ValueError:
            raise FormatError(f"XNN_LIMIT_{name}={env!r}: not a number") from None
    return _DEFAULTS[name]


def _depth(obj: Any, max_depth: int) -> int:
    """Nesting depth of a JSON-like object, iteratively (no recursion to exhaust)."""
    deepest = 0
    stack = [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if isinstance(o, (dict, list)):
            deepest = max(deepest, d)
            if deepest > max_depth:
                return deepest
            stack.extend((v, d + 1) for v in (o.values() if isinstance(o, dict) else o))
    return deepest


def loads_json(text: str | bytes, source: str, expect_object: bool = True) -> Any:
    """Parse untrusted JSON: size and nesting bounded, NaN/Infinity refused, huge integers refused,
    one FormatError line naming ``source`` on any problem."""
    max_bytes = limit("MAX_JSON_BYTES")
    if len(text) > max_bytes:
        raise FormatError(f"{source}: larger than {max_bytes} bytes (XNN_LIMIT_MAX_JSON_BYTES)")
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FormatError(f"{source}: not UTF-8 text (byte {e.start})") from None

    def bad_constant(c: str):
        raise ValueError(f"{c} is not valid JSON")

    try:
        obj = json.loads(text, parse_constant=bad_constant)
    except RecursionError:
        raise FormatError(f"{source}: nested deeper than {limit('MAX_NESTING')} levels") from None
    except (ValueError, json.JSONDecodeError) as e:  # includes int digit limits
        raise FormatError(f"{source}: not valid JSON ({str(e).splitlines()[0][:120]})") from None
    if _depth(obj, limit("MAX_NESTING")) > limit("MAX_NESTING"):
        raise FormatError(f"{source}: nested deeper than {limit('MAX_NESTING')} levels")
    if expect_object and not isinstance(obj, dict):
        raise FormatError(f"{source}: expected a JSON object")
    return obj


def read_json_file(path: str | Path, expect_object: bool = True) -> Any:
    """Read a JSON file through :func:`loads_json` (size checked before reading)."""
    p = Path(path)
    try:
        if not p.is_file():
            raise FormatError(f"{p}: missing or not a regular file")
        size = p.stat().st_size
        if size > limit("MAX_JSON_BYTES"):
            raise FormatError(f"{p}: larger than {limit('MAX_JSON_BYTES')} bytes (XNN_LIMIT_MAX_JSON_BYTES)")
        data = p.read_bytes()
    except OSError as e:
        raise FormatError(f"{p}: cannot be read ({e.strerror or e})") from None
    return loads_json(data, str(p), expect_object=expect_object)


def dumps_json(obj: Any, indent: int | None = 2) -> str:
    """Strict JSON text: non-finite floats become null (bare NaN is not JSON)."""
    return json.dumps(_finite(obj), indent=indent, allow_nan=False, default=_default)


def _finite(o: Any) -> Any:
    import math

    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_finite(v) for v in o]
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return _finite(o.item())
        if isinstance(o, np.ndarray):
            return _finite(o.tolist())
    except ImportError:
        pass
    return o


def _default(o: Any) -> Any:
    return str(o)
