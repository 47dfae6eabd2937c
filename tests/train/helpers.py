"""Shared helpers for tests/train: tiny specs, NumPy gradients, trainer factories.

Tolerances are fixed here, never derived from measurements.
"""
from __future__ import annotations

import importlib

import numpy as np
import torch  # noqa: F401  (torch before tensorflow in one process)

from xnn.spec import from_dict
from xnn.train.losses import loss_and_grad

RTOL_STEP = 1e-10  # one/few optimizer steps, float64, relative to the update size
RTOL_TRAJ = 1e-8  # 20-step trajectories, float64, relative
BACKENDS = ("torch", "keras")


def linear_spec(train: dict, units=(5, 3), in_dim: int = 4, **layer_kw):
    """input (in_dim,) -> Dense(units[0]) -> Dense(units[1]) (no activation: exact NumPy grads)."""
    model = [{"type": "Dense", "units": units[0], "name": "d1", **layer_kw.get("d1", {})},
             {"type": "Dense", "units": units[1], "name": "d2", **layer_kw.get("d2", {})}]
    return from_dict({"input": {"shape": [in_dim]}, "model": model,
                      "train": {"dtype": "float64", "metrics": [], **train}})


def linear_grads(spec, p: dict, x: np.ndarray, y: np.ndarray, cw=None) -> tuple[float, dict]:
    """Loss and canonical gradients of the two-Dense linear model, in NumPy."""
    z1 = x @ p["d1.weight"].T + p["d1.bias"]
    z2 = z1 @ p["d2.weight"].T + p["d2.bias"]
    loss, g2 = loss_and_grad(spec.train.loss, z2, y, cw)
    g1 = g2 @ p["d2.weight"]
    return loss, {"d2.weight": g2.T @ z1, "d2.bias": g2.sum(0), "d1.weight": g1.T @ x, "d1.bias": g1.sum(0)}


def make_trainer(backend: str, spec, params, steps_per_epoch: int = 1, class_weights=None):
    from xnn.backends import get

    be = get(backend)
    model = be.build(spec, params, dtype=spec.train.dtype)
    tr = importlib.import_module(f"xnn.backends.{backend}.train").Trainer(
        spec, model, spec.train.dtype, steps_per_epoch=steps_per_epoch, class_weights=class_weights)
    return be, model, tr


def assert_rel(a: dict, b: dict, rtol: float, what: str, base: dict | None = None) -> None:
    """Each array of ``a`` equals ``b``'s within rtol × max|b − base| (update size) or × max|b|."""
    for k in b:
        x, y = np.asarray(a[k], np.float64), np.asarray(b[k], np.float64)
        scale = float(np.max(np.abs(y - base[k]))) if base is not None else float(np.max(np.abs(y)))
        err = float(np.max(np.abs(x - y))) if x.size else 0.0
        assert err <= rtol * max(scale, 1e-300), f"{what} {k}: max abs diff {err:.3e} vs scale {scale:.3e} (rtol {rtol:.0e})"
