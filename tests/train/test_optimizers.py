"""Every optimizer and schedule: torch vs Keras vs xnn's NumPy reference (float64, 1e-10
relative to the update), plus clipping, weight-decay exclusions and frozen nodes."""
from __future__ import annotations

import math

import numpy as np
import pytest

from xnn.init import init_params
from xnn.train.optim import ReferenceOptimizer
from xnn.train.schedules import lr_at

from .helpers import BACKENDS, RTOL_STEP, assert_rel, linear_grads, linear_spec, make_trainer

OPTIMIZERS = {
    "sgd": {"type": "sgd", "lr": 0.1},
    "sgd_momentum_dampening_wd": {"type": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.3, "weight_decay": 0.05},
    "sgd_nesterov_wd": {"type": "sgd", "lr": 0.1, "momentum": 0.8, "nesterov": True, "weight_decay": 0.05},
    "adam": {"type": "adam", "lr": 0.01},
    "adam_l2": {"type": "adam", "lr": 0.01, "betas": [0.8, 0.95], "eps": 1e-3, "weight_decay": 0.1},
    "adamw": {"type": "adamw", "lr": 0.01},
    "adamw_wd": {"type": "adamw", "lr": 0.01, "weight_decay": 0.3, "eps": 1e-4},
    "rmsprop": {"type": "rmsprop", "lr": 0.01},
    "rmsprop_centered_momentum_wd": {"type": "rmsprop", "lr": 0.01, "alpha": 0.9, "eps": 1e-4, "momentum": 0.5,
                                     "centered": True, "weight_decay": 0.1},
    "adagrad": {"type": "adagrad", "lr": 0.1},
    "adagrad_acc_wd": {"type": "adagrad", "lr": 0.1, "initial_accumulator_value": 0.1, "eps": 1e-3, "weight_decay": 0.1},
}
STEPS = 3  # enough to exercise state (momentum, bias correction, accumulators)


def _batch(seed=0, n=6):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 4)), rng.integers(0, 3, n)


def run_reference(spec, steps, steps_per_epoch=1, seeds=None):
    p = init_params(spec)
    opt = ReferenceOptimizer(spec)
    for s in range(steps):
        x, y = _batch(seeds[s] if seeds else 0)
        _, g = linear_grads(spec, p, x, y)
        p = opt.step(p, g, lr_at(spec.train, s, steps_per_epoch))
    return p, opt


def run_backend(backend, spec, steps, steps_per_epoch=1, seeds=None):
    be, model, tr = make_trainer(backend, spec, init_params(spec), steps_per_epoch)
    for s in range(steps):
        tr.train_step(*_batch(seeds[s] if seeds else 0))
    return be.get_params(model), tr


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_steps_match_reference(name):
    spec = linear_spec({"optimizer": OPTIMIZERS[name], "loss": "cross_entropy"})
    p0 = init_params(spec)
    ref, ropt = run_reference(spec, STEPS)
    for b in BACKENDS:
        got, tr = run_backend(b, spec, STEPS)
        assert_rel(got, ref, RTOL_STEP, f"{b} {name}", base=p0)
        # the exported optimizer state is the reference's, in canonical layout
        st = tr.optimizer_state()
        assert int(st["step"][0]) == STEPS
        for k, v in ropt.state.items():
            np.testing.assert_allclose(st[k], v, rtol=1e-9, atol=1e-12 * max(1.0, np.abs(v).max()), err_msg=f"{b} {k}")


@pytest.mark.parametrize("name", ["sgd_momentum_dampening_wd", "adamw_wd", "rmsprop_centered_momentum_wd"])
def test_clipping_before_weight_decay(name):
    spec = linear_spec({"optimizer": OPTIMIZERS[name], "loss": "cross_entropy", "clip_grad_norm": 0.05})
    p0 = init_params(spec)
    _, g = linear_grads(spec, p0, *_batch())
    assert math.sqrt(sum(float((v ** 2).sum()) for v in g.values())) > 0.1, "the test needs clipping to be active"
    ref, _ = run_reference(spec, STEPS)
    unclipped, _ = run_reference(linear_spec({"optimizer": OPTIMIZERS[name], "loss": "cross_entropy"}), STEPS)
    assert not np.allclose(ref["d1.weight"], unclipped["d1.weight"])
    for b in BACKENDS:
        got, _ = run_backend(b, spec, STEPS)
        assert_rel(got, ref, RTOL_STEP, f"{b} {name} clipped", base=p0)


def test_weight_decay_exclusions_by_group():
    # only decay differs between the two runs; biases (excluded by default) must match a run
    # without decay on the first step, weights must not
    base = {"type": "sgd", "lr": 0.1}
    spec_wd = linear_spec({"optimizer": {**base, "weight_decay": 0.5}, "loss": "cross_entropy"})
    spec_no = linear_spec({"optimizer": base, "loss": "cross_entropy"})
    spec_all = linear_spec({"optimizer": {**base, "weight_decay": 0.5}, "loss": "cross_entropy", "weight_decay_exclude": []})
    for b in BACKENDS:
        wd, _ = run_backend(b, spec_wd, 1)
        no, _ = run_backend(b, spec_no, 1)
        al, _ = run_backend(b, spec_all, 1)
        np.testing.assert_array_equal(wd["d1.bias"], no["d1.bias"])
        assert not np.allclose(wd["d1.weight"], no["d1.weight"])
        assert not np.allclose(al["d1.bias"], no["d1.bias"])
        ref, _ = run_reference(spec_all, 1)
        assert_rel(al, ref, RTOL_STEP, f"{b} decay all", base=init_params(spec_all))


def test_frozen_nodes_unchanged():
    for spec in (linear_spec({"optimizer": {"type": "adam", "lr": 0.1}, "frozen": ["d1"], "loss": "cross_entropy"}),
                 linear_spec({"optimizer": {"type": "adam", "lr": 0.1}, "loss": "cross_entropy"}, d1={"trainable": False})):
        p0 = init_params(spec)
        ref, _ = run_reference(spec, STEPS)
        for b in BACKENDS:
            got, _ = run_backend(b, spec, STEPS)
            np.testing.assert_array_equal(got["d1.weight"], p0["d1.weight"])
            np.testing.assert_array_equal(got["d1.bias"], p0["d1.bias"])
            assert not np.allclose(got["d2.weight"], p0["d2.weight"])
            assert_rel(got, {k: ref[k] for k in ("d2.weight", "d2.bias")}, RTOL_STEP, f"{b} frozen", base=p0)


SCHEDULES = {
    "constant_warmup": {"type": "constant", "warmup_steps": 3},
    "step": {"type": "step", "step_size": 2, "gamma": 0.5},
    "step_warmup": {"type": "step", "step_size": 2, "gamma": 0.5, "warmup_steps": 2},
    "exponential": {"type": "exponential", "gamma": 0.7, "decay_steps": 2},
    "cosine_default_total": {"type": "cosine"},
    "cosine_warmup_min": {"type": "cosine", "total_steps": 5, "min_lr": 0.01, "warmup_steps": 2},
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_steps_match_reference(name):
    # SGD with momentum: Keras's own SGD would carry old lrs in its velocity under a schedule
    spec = linear_spec({"optimizer": {"type": "sgd", "lr": 0.2, "momentum": 0.9}, "schedule": SCHEDULES[name],
                        "epochs": 3, "loss": "cross_entropy"})
    seeds = list(range(7))
    p0 = init_params(spec)
    ref, _ = run_reference(spec, 7, steps_per_epoch=2, seeds=seeds)
    for b in BACKENDS:
        got, _ = run_backend(b, spec, 7, steps_per_epoch=2, seeds=seeds)
        assert_rel(got, ref, RTOL_STEP, f"{b} {name}", base=p0)


def test_schedule_formulas():
    from xnn.spec.sections import TrainSpec

    def lrs(sched, n, spe=2, epochs=3, lr=1.0):
        t = TrainSpec(optimizer={"type": "sgd", "lr": lr}, schedule=sched, epochs=epochs)
        return [lr_at(t, i, spe) for i in range(n)]

    assert lrs({"type": "constant", "warmup_steps": 3}, 5) == [0.25, 0.5, 0.75, 1.0, 1.0]
    assert lrs({"type": "step", "step_size": 2, "gamma": 0.5, "warmup_steps": 1}, 6) == [0.5, 1.0, 1.0, 0.5, 0.5, 0.25]
    np.testing.assert_allclose(lrs({"type": "exponential", "gamma": 0.5, "decay_steps": 2}, 3), [1.0, 2 ** -0.5, 0.5], rtol=1e-15)
    cos = lrs({"type": "cosine"}, 8)  # total = 3 epochs x 2 steps = 6, clamped afterwards
    np.testing.assert_allclose(cos, [0.5 * (1 + math.cos(math.pi * min(i, 6) / 6)) for i in range(8)], rtol=1e-15, atol=1e-17)
    assert cos[6] == cos[7] == 0.0
    cw = lrs({"type": "cosine", "total_steps": 6, "warmup_steps": 2, "min_lr": 0.1}, 7)
    np.testing.assert_allclose(cw[:3], [1 / 3, 2 / 3, 1.0])
    assert cw[-1] == pytest.approx(0.1)
