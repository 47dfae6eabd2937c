"""What every backend module provides (same module names in each: build, weights, train, layers/).

- ``build(spec, params=None, dtype="float32", device="cpu")`` -> native model
  (``torch.nn.Module`` / ``keras.Model``) taking channels-last batches.
- ``get_params(model)`` / ``set_params(model, params)``: canonical ``<node>.<param>`` NumPy dicts.
- ``predict(model, x, batch_size=256)`` -> NumPy output in evaluation mode.
- ``lowerings()``: layer kind -> lowering, for coverage tests.
- ``train.fit(spec, model, data, ...)``: xnn's training loop on that framework.
"""
from __future__ import annotations

import importlib
import pkgutil


def load_lowerings(package: str, store: dict) -> dict:
    """Import every module of a backend's ``layers`` package (each registers its lowerings)."""
    pkg = importlib.import_module(package)
    for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if not m.name.startswith("_"):
            importlib.import_module(f"{package}.{m.name}")
    return store
