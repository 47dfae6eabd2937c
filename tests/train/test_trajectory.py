"""20 training steps in float64: torch and Keras agree to 1e-8 relative (MLP; CNN with BatchNorm)."""
from __future__ import annotations

import numpy as np

from xnn.init import init_params
from xnn.spec import from_dict, layers

from .helpers import RTOL_TRAJ, make_trainer

STEPS = 20


def _trajectory(spec, make_batch):
    p0 = init_params(spec)
    out = {}
    for b in ("torch", "keras"):
        be, model, tr = make_trainer(b, spec, p0, steps_per_epoch=5)
        losses = [tr.train_step(*make_batch(s)) for s in range(STEPS)]
        out[b] = (be.get_params(model), np.array(losses))
    return p0, out


def _check(p0, out):
    (pt, lt), (pk, lk) = out["torch"], out["keras"]
    np.testing.assert_allclose(lk, lt, rtol=RTOL_TRAJ)
    for k in pt:
        scale = max(float(np.abs(pt[k]).max()), 1e-12)
        err = float(np.abs(pt[k] - pk[k]).max())
        assert err <= RTOL_TRAJ * scale, f"{k}: {err:.3e} vs scale {scale:.3e}"
        if not k.endswith(("running_mean", "running_var")):
            assert np.abs(pt[k] - p0[k]).max() > 0, f"{k} never moved"


def test_mlp_20_steps_torch_equals_keras():
    spec = from_dict({"input": {"shape": [6]},
                      "model": [{"type": "Dense", "units": 8}, "relu", {"type": "Dense", "units": 3}],
                      "train": {"dtype": "float64", "epochs": 4, "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9,
                                "nesterov": True, "weight_decay": 1e-3}, "schedule": {"type": "cosine", "warmup_steps": 3},
                                "clip_grad_norm": 1.0, "loss": {"type": "cross_entropy", "label_smoothing": 0.1}}})

    def batch(s):
        rng = np.random.default_rng(100 + s)
        return rng.normal(size=(8, 6)), rng.integers(0, 3, 8)

    _check(*_trajectory(spec, batch))


def test_cnn_batchnorm_20_steps_torch_equals_keras():
    assert "BatchNorm" in layers(), "BatchNorm is not registered"
    spec = from_dict({"input": {"shape": [6, 5, 2]},
                      "model": [{"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": "same"},
                                {"type": "BatchNorm"}, "relu",
                                {"type": "Conv2D", "filters": 4, "kernel_size": 2, "strides": 2},
                                {"type": "Flatten"}, {"type": "Dense", "units": 3}],
                      "train": {"dtype": "float64", "epochs": 4, "optimizer": {"type": "adamw", "lr": 0.01},
                                "loss": "cross_entropy"}})

    def batch(s):
        rng = np.random.default_rng(200 + s)
        return rng.normal(size=(5, 6, 5, 2)), rng.integers(0, 3, 5)

    _check(*_trajectory(spec, batch))
