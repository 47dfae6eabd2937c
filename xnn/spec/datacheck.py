"""``data`` section checks made at validate time, without reading any data: the source must be
a built-in name or a data file type xnn reads, and its options must be ones that source takes,
with values in range. The names come from :mod:`xnn.data` (NumPy only, imported lazily); the
value rules below mirror what each source checks when it loads (tests/spec keep them in step).
"""
from __future__ import annotations

import difflib
import math
from pathlib import Path
from typing import Any

# option -> (kind, lowest value) for each built-in source
_INT, _FLOAT = "integer", "number"
_BUILTIN_OPTIONS: dict[str, dict[str, tuple[str, float]]] = {
    "digits": {"n_samples": (_INT, 1)},
    "iris": {"n_samples": (_INT, 1)},
    "synthetic_classification": {"n_samples": (_INT, 1), "n_features": (_INT, 1), "n_classes": (_INT, 2),
                                 "separation": (_FLOAT, 0), "noise": (_FLOAT, 0), "seed": (_INT, 0)},
    "synthetic_regression": {"n_samples": (_INT, 1), "n_features": (_INT, 1), "n_targets": (_INT, 1),
                             "noise": (_FLOAT, 0), "seed": (_INT, 0)},
    "synthetic_sequence": {"n_samples": (_INT, 1), "length": (_INT, 2), "min_length": (_INT, 2),
                           "vocab": (_INT, 4), "seed": (_INT, 0)},
    "synthetic_images": {"n_samples": (_INT, 1), "size": (_INT, 8), "channels": (_INT, 1), "classes": (_INT, 2),
                         "noise": (_FLOAT, 0), "seed": (_INT, 0)},
    "synthetic_segmentation": {"n_samples": (_INT, 1), "size": (_INT, 8), "channels": (_INT, 1),
                               "classes": (_INT, 2), "noise": (_FLOAT, 0), "shapes": (_INT, 1), "seed": (_INT, 0)},
}
# upper bounds (xnn/data/images.py: 8 shape kinds, at most 16 shapes per image)
_MAX_OPTIONS: dict[str, dict[str, int]] = {"synthetic_images": {"classes": 8},
                                           "synthetic_segmentation": {"classes": 8, "shapes": 16}}
_STR_OPTIONS = {"x_key", "y_key", "delimiter"}  # file options that must be text


def _known_sources() -> tuple[tuple[str, ...], tuple[str, ...], dict[str, set[str]]]:
    """(built-in names, file suffixes, options per suffix) from xnn.data."""
    from ..data import files, sources

    per_suffix = getattr(files, "_OPTIONS", {})
    return tuple(sources.BUILTIN), tuple(files.SUFFIXES), {k: set(v) for k, v in per_suffix.items()}


def _unknown_option(key: Any, allowed: set[str], where: str) -> str:
    close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    known = f"; known: {sorted(allowed)}" if allowed else "; it takes none"
    return f"data.options.{key}: unknown option for {where}{hint}{known}"


def _value_error(key: str, v: Any, kind: str, lo: float) -> str | None:
    ok_type = (isinstance(v, int) if kind == _INT else isinstance(v, (int, float))) and not isinstance(v, bool)
    if ok_type and (kind == _INT or math.isfinite(v)) and v >= lo:
        return None
    lo_s = int(lo) if kind == _INT else lo
    return f"data.options.{key}: must be an {kind} >= {lo_s} (received {v!r})" if kind == _INT else \
        f"data.options.{key}: must be a finite {kind} >= {lo_s} (received {v!r})"


def check_data(source: str, options: dict) -> list[str]:
    """Every problem with ``data.source`` and ``data.options`` found without reading data."""
    builtin, suffixes, per_suffix = _known_sources()
    if source in builtin:
        rules = _BUILTIN_OPTIONS.get(source)
        if rules is None:  # a source added to xnn.data without rules here: its loader checks it
            return []
        errors = [_unknown_option(k, set(rules), f"source {source!r}") for k in options if k not in rules]
        errors += [e for k, (kind, lo) in rules.items() if k in options
                   for e in [_value_error(k, options[k], kind, lo)] if e]
        for k, hi in _MAX_OPTIONS.get(source, {}).items():
            v = options.get(k)
            if k in options and not any(e.startswith(f"data.options.{k}:") for e in errors) and v > hi:
                lo = int(rules[k][1])
                errors.append(f"data.options.{k}: must be an integer in {lo}..{hi} (received {v!r})")
        if source == "synthetic_sequence" and not errors:
            lo, t = options.get("min_length"), options.get("length")
            if lo is not None and t is not None and lo > t:
                errors.append(f"data.options.min_length: must be <= length ({t}) (received {lo})")
        return errors
    suffix = Path(source).suffix.lower()
    if suffix in suffixes:
        allowed = per_suffix.get(suffix)
        if allowed is None:
            return []
        errors = [_unknown_option(k, allowed, f"{suffix} files") for k in options if k not in allowed]
        errors += [f"data.options.{k}: must be a text (received {options[k]!r})"
                   for k in options if k in allowed and k in _STR_OPTIONS and not isinstance(options[k], str)]
        return errors
    close = difflib.get_close_matches(source, builtin, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    return [f"data.source: unknown source {source[:80]!r}{hint}; use one of {list(builtin)} "
            f"or a {'/'.join(suffixes)} file"]
