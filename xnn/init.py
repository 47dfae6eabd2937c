"""Initial weights, drawn by xnn in NumPy from the spec's seed, so every backend starts equal.

Initializers (``Param.init``):
- ``zeros``, ``ones``
- ``uniform`` with ``bound``: U(-bound, bound). Layers use PyTorch's defaults, e.g. Dense and
  Conv weights and biases U(±1/sqrt(fan_in)) (kaiming_uniform with a=sqrt(5)).
- ``normal`` with ``std``
- ``glorot_uniform`` with ``fan_in``, ``fan_out``: U(±sqrt(6/(fan_in+fan_out)))
- ``orthogonal`` with ``gain`` (2-D shapes, rows x cols)

Each parameter gets its own stream: seed and the parameter's full name, so adding a node does
not change the weights of the others.
"""
from __future__ import annotations

import hashlib

import numpy as np

from .spec.layer import Param


def _rng(seed: int, key: str) -> np.random.Generator:
    h = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "little")
    return np.random.default_rng([seed, h])


def draw(p: Param, seed: int, key: str) -> np.ndarray:
    """Draw one parameter (float64) deterministically from ``seed`` and its name ``key``."""
    rng = _rng(seed, key)
    a = p.init_args
    if p.init == "zeros":
        return np.zeros(p.shape)
    if p.init == "ones":
        return np.ones(p.shape)
    if p.init == "uniform":
        b = float(a["bound"])
        return rng.uniform(-b, b, p.shape)
    if p.init == "normal":
        return rng.normal(0.0, float(a.get("std", 1.0)), p.shape)
    if p.init == "glorot_uniform":
        b = np.sqrt(6.0 / (a["fan_in"] + a["fan_out"]))
        return rng.uniform(-b, b, p.shape)
    if p.init == "orthogonal":
        rows, cols = p.shape[0], int(np.prod(p.shape[1:]))
        m = rng.normal(size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(m)
        q = q * np.sign(np.diag(r))
        q = q if rows >= cols else q.T
        return float(a.get("gain", 1.0)) * q[:rows, :cols].reshape(p.shape)
    if p.init == "constant":
        return np.full(p.shape, float(a["value"]))
    raise ValueError(f"unknown initializer {p.init!r}")


def init_params(spec, seed: int | None = None, dtype: str = "float64") -> dict[str, np.ndarray]:
    """Seeded initial weights for every ``<node>.<param>`` of a spec, canonical layout."""
    seed = spec.train.seed if seed is None else seed
    return {k: draw(p, seed, k).astype(dtype) for k, p in spec.param_shapes().items()}
