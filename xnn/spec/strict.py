"""Value checks pydantic's lax mode lets through: a boolean where a number is expected
(``units: true`` would be 1), non-finite floats (``lr: .inf``), floats the training dtype
cannot hold (``lr: 1e39`` overflows float32), and models whose parameters cannot fit in memory.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from ..limits import limit

if TYPE_CHECKING:
    from .model import Node

_ITEMSIZE = {"float32": 4, "float64": 8, "float16": 2, "bfloat16": 2}
_FINFO = {"float32": (3.4028234663852886e38, 1.401298464324817e-45), "float64": (1.7976931348623157e308, 5e-324)}


def _fmt(v: Any) -> str:
    return "true" if v is True else "false" if v is False else repr(v)


def _pairs(raw: Any, out: Any, path: str):
    """(raw, validated, path) for every value of ``raw`` that reached ``out`` and may need a
    check (booleans, floats, containers). The walk follows ``raw`` (what the user wrote), so its
    work is bounded by the spec's size."""
    stack = [(raw, out, path)]
    while stack:
        r, o, p = stack.pop()
        if r is True or r is False or isinstance(o, float):
            yield r, o, p
        elif isinstance(r, dict):
            if isinstance(o, BaseModel):
                fields = type(o).model_fields
                for k, v in r.items():
                    if k in fields:
                        w = getattr(o, k)
                        if v is True or v is False or type(w) is float or isinstance(v, (dict, list, tuple)):
                            stack.append((v, w, f"{p}.{k}"))
            elif isinstance(o, dict):
                stack.extend((v, o[k], f"{p}.{k}") for k, v in r.items() if k in o)
        elif isinstance(r, (list, tuple)) and isinstance(o, (list, tuple)) and len(r) == len(o):
            stack.extend((v, w, f"{p}[{i}]") for i, (v, w) in enumerate(zip(r, o)))


def strict_value_errors(raw: Any, out: Any, path: str, dtype: str | None = None) -> list[str]:
    """Booleans coerced to numbers, non-finite floats and (given the training ``dtype``) floats
    that overflow it or, not being 0, round to 0 in it (an lr of 1e-50 is no lr in float32)."""
    big, tiny = _FINFO.get(dtype or "", (math.inf, 0.0))
    errors = []
    for r, o, p in _pairs(raw, out, path):
        if isinstance(r, bool):
            if not isinstance(o, bool) and isinstance(o, (int, float)):
                errors.append(f"{p}: must be a number, not a boolean (received {_fmt(r)})")
        elif not math.isfinite(o):
            errors.append(f"{p}: must be a finite number (received {_fmt(r)})")
        elif abs(o) > big:
            errors.append(f"{p}: {o:g} is beyond the range of train.dtype {dtype} (largest {big:.4g})")
        elif o != 0 and abs(o) < tiny:
            errors.append(f"{p}: {o:g} rounds to 0 in train.dtype {dtype} (smallest {tiny:.4g})")
    return errors


def _human(n: int) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:,} bytes" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return str(n)


def model_bytes_errors(nodes: list["Node"], dtype: str) -> list[str]:
    """Refuse, before anything is allocated, a model whose parameters (and buffers) exceed
    MAX_MODEL_BYTES, or one node whose output for a single sample exceeds MAX_ARRAY_BYTES."""
    size = _ITEMSIZE.get(dtype, 8)
    count = sum(math.prod(p.shape) for n in nodes for p in n.params.values())
    errors = []
    max_model = limit("MAX_MODEL_BYTES")
    if count * size > max_model:
        errors.append(f"model: {count:,} parameters need {_human(count * size)} in {dtype}, more than the "
                      f"{_human(max_model)} allowed (XNN_LIMIT_MAX_MODEL_BYTES)")
    max_array = limit("MAX_ARRAY_BYTES")
    for n in nodes:
        need = math.prod(n.out_shape) * size
        if need > max_array:
            errors.append(f"model: node {n.name!r}: its output {list(n.out_shape)} needs {_human(need)} per sample, "
                          f"more than the {_human(max_array)} allowed for one array (XNN_LIMIT_MAX_ARRAY_BYTES)")
            break
    return errors
