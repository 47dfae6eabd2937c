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


def test_transformer_20_steps_torch_equals_keras_and_resumes_exactly():
    """torch trains the block's q/k/v projections as one fused tensor per group (weights, biases):
    the trajectory, weight decay exclusions and the canonical optimizer state must not notice."""
    spec = from_dict({"input": {"shape": [5, 8]},
                      "model": [{"type": "TransformerEncoderBlock", "num_heads": 2, "mlp_dim": 12},
                                {"type": "GlobalAvgPool1D"}, {"type": "Dense", "units": 3}],
                      "train": {"dtype": "float64", "epochs": 4, "clip_grad_norm": 1.0, "loss": "cross_entropy",
                                "optimizer": {"type": "adamw", "lr": 0.01, "weight_decay": 0.05}}})

    def batch(s):
        rng = np.random.default_rng(300 + s)
        return rng.normal(size=(6, 5, 8)), rng.integers(0, 3, 6)

    p0, out = _trajectory(spec, batch)
    # the key bias adds the same q·b_k to every score of a query, so its true gradient is 0 and
    # both frameworks train it on rounding noise (~1e-11): compare everything else
    kb = "transformerencoderblock1_attn.k_bias"
    _check(p0, {b: ({k: v for k, v in pr.items() if k != kb}, ls) for b, (pr, ls) in out.items()})
    # resume the torch run half-way from canonical params + optimizer state: same end point
    be, model, tr = make_trainer("torch", spec, p0, steps_per_epoch=5)
    for s in range(STEPS // 2):
        tr.train_step(*batch(s))
    state = tr.optimizer_state()
    assert any(k.startswith("transformerencoderblock1_attn.q_weight.") for k in state)
    be2, model2, tr2 = make_trainer("torch", spec, be.get_params(model), steps_per_epoch=5)
    tr2.load_optimizer_state(state)
    for s in range(STEPS // 2, STEPS):
        tr2.train_step(*batch(s))
    got = be2.get_params(model2)
    for k, v in out["torch"][0].items():
        np.testing.assert_array_equal(got[k], v, err_msg=k)
