"""``train.compile`` (``xnn train --compile``): the compiled step keeps the eager step's numbers,
its optimizer state round-trips like the eager one's, and the Keras step and predict trace once
for every batch size (the last partial batch does not trace again)."""
from __future__ import annotations

import argparse
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from xnn.init import init_params
from xnn.spec import from_dict

from .helpers import RTOL_TRAJ, assert_rel, make_trainer

STEPS = 6
ROOT = Path(__file__).resolve().parents[2]


def _in_child(check: str) -> None:
    """Run ``check`` (a function of this module) in a fresh interpreter: XLA's and Inductor's
    compilers leave hundreds of MB in a process, which later tests that fork children would count."""
    proc = subprocess.run([sys.executable, "-c", f"from tests.train.test_compile import {check}; {check}()"],
                          cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def _spec(compile_: bool, dtype: str = "float64"):
    return from_dict({"name": "c", "input": {"shape": [6, 6, 1]}, "model": [
        {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same"}, "relu",
        {"type": "MaxPool2D", "pool_size": 2}, {"type": "Flatten"}, {"type": "Dense", "units": 3}],
        "train": {"dtype": dtype, "metrics": [], "compile": compile_, "clip_grad_norm": 1.0,
                  "optimizer": {"type": "adam", "lr": 1e-2, "weight_decay": 1e-3}}})


def _batches(n: int = STEPS):
    rng = np.random.default_rng(3)
    # 8, 8, 5, 8, 8, 5, ...: a partial batch among full ones
    return [(rng.normal(size=(5 if i % 3 == 2 else 8, 6, 6, 1)), rng.integers(0, 3, 5 if i % 3 == 2 else 8))
            for i in range(n)]


def _run(backend: str, compile_: bool, p0, batches):
    spec = _spec(compile_)
    be, model, tr = make_trainer(backend, spec, p0, steps_per_epoch=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "not available here": the eager fallback
        losses = np.array([tr.train_step(x, y) for x, y in batches])
    return be, model, tr, losses


def test_spec_field_and_cli_flag() -> None:
    from xnn.cli.cmd_train import add_arguments, overrides_of

    assert _spec(False).train.compile is False and _spec(True).train.compile is True
    assert from_dict({"input": {"shape": [2]}, "model": [{"type": "Dense", "units": 2}]}).train.compile is False
    p = argparse.ArgumentParser()
    add_arguments(p)
    assert "train.compile=true" in overrides_of(p.parse_args(["s.yaml", "--out", "o", "--compile"]))
    assert not any("compile" in s for s in overrides_of(p.parse_args(["s.yaml", "--out", "o"])))


def test_keras_xla_matches_eager_and_state_round_trips() -> None:
    pytest.importorskip("tensorflow")
    _in_child("check_keras_xla")


def check_keras_xla() -> None:
    p0 = init_params(_spec(False))
    batches = _batches()
    be, m_e, tr_e, l_e = _run("keras", False, p0, batches)
    _, m_c, tr_c, l_c = _run("keras", True, p0, batches)
    assert tr_c.jit, "XLA compiles this CNN on CPU"
    np.testing.assert_allclose(l_c, l_e, rtol=RTOL_TRAJ)
    assert_rel(be.get_params(m_c), be.get_params(m_e), RTOL_TRAJ, "xla vs eager", base=p0)
    # checkpoint/resume: the compiled trainer's state continues in a fresh compiled trainer
    st = {**tr_c.optimizer_state(), **tr_c.rng_state()}
    _, m_r, tr_r = make_trainer("keras", _spec(True), be.get_params(m_c), steps_per_epoch=3)
    tr_r.load_optimizer_state(st)
    tr_r.load_rng_state(st)
    more = _batches(STEPS + 2)[STEPS:]
    for x, y in more:
        tr_r.train_step(x, y)
        tr_e.train_step(x, y)
    assert tr_r.step == tr_e.step == STEPS + 2
    assert_rel(be.get_params(m_r), be.get_params(m_e), RTOL_TRAJ, "resumed xla vs eager", base=p0)


def test_keras_step_and_predict_trace_once() -> None:
    pytest.importorskip("tensorflow")
    from xnn.backends.keras.build import _predict_fn

    p0 = init_params(_spec(False, "float32"))
    be, model, tr = make_trainer("keras", _spec(False, "float32"), p0, steps_per_epoch=3)
    for x, y in _batches(9):  # three "epochs" of 8, 8, 5
        tr.train_step(x, y)
    # the step is one concrete function (one trace by construction) whose batch axis is unknown,
    # so the partial batch of 5 ran through the same trace as the batches of 8
    assert type(tr._compiled).__name__ == "ConcreteFunction"
    assert tr._compiled.structured_input_signature[0][0].shape.as_list()[0] is None
    x = np.random.default_rng(0).normal(size=(21, 6, 6, 1))
    z = be.predict(model, x, batch_size=8)  # 8, 8, 5
    be.predict(model, x[:3], batch_size=8)
    assert z.shape == (21, 3)
    assert _predict_fn(model).experimental_get_tracing_count() == 1
    np.testing.assert_allclose(z, np.asarray(model(x.astype("float32"), training=False)), rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_torch_compile_matches_eager() -> None:
    """torch.compile (or, where it cannot compile here, the eager fallback) keeps the numbers."""
    _in_child("check_torch_compile")


def check_torch_compile() -> None:
    p0 = init_params(_spec(False))
    batches = _batches()
    be, m_e, _, l_e = _run("torch", False, p0, batches)
    _, m_c, tr_c, l_c = _run("torch", True, p0, batches)
    np.testing.assert_allclose(l_c, l_e, rtol=RTOL_TRAJ)
    assert_rel(be.get_params(m_c), be.get_params(m_e), RTOL_TRAJ, "torch.compile vs eager", base=p0)
    assert tr_c.optimizer_state()["step"][0] == STEPS
