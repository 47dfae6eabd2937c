"""Backends are lowerings of the spec into native frameworks. Import them lazily:

    from xnn.backends import get
    be = get("torch")          # or "keras"
    model = be.build(spec, params, dtype="float64")

Import torch before tensorflow when both are used in one process.
"""
from __future__ import annotations

import importlib

NAMES = ("torch", "keras")


def get(name: str):
    """The backend module ``xnn.backends.<name>`` (imports its framework)."""
    if name not in NAMES:
        from ..errors import SpecError

        raise SpecError(f"backend: must be one of {list(NAMES)} (received {name!r})")
    if name == "keras":
        try:
            importlib.import_module("torch")  # torch first: avoids duplicate-OpenMP crashes
        except ImportError:
            pass
    return importlib.import_module(f"xnn.backends.{name}")
