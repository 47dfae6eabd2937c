"""fit(): resume equality, Ctrl-C checkpoint, NaN stop, checkpoint fallback, run folder, early stopping."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from xnn.errors import FormatError, TrainingError
from xnn.spec import from_dict
from xnn.train import ArrayData, fit, load_run
from xnn.train import run as R


def _data(n=40, d=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n + 16, d))
    y = (np.abs(x[:, 0]) * 2).astype(np.int64) % k
    return ArrayData((x[:n], y[:n]), (x[n:n + 8], y[n:n + 8]), (x[n + 8:], y[n + 8:]))


def _spec(**train):
    return from_dict({"input": {"shape": [4]},
                      "model": [{"type": "Dense", "units": 8}, "relu", {"type": "Dropout", "rate": 0.3},
                                {"type": "Dense", "units": 3}],
                      "train": {"dtype": "float64", "epochs": 4, "batch_size": 16,
                                "optimizer": {"type": "adam", "lr": 0.05}, "schedule": "cosine", **train}})


def _equal(a, b):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_resume_after_ctrl_c_and_after_crash_equals_uninterrupted(backend, tmp_path):
    data, spec = _data(), _spec()
    full = fit(spec, backend, data=data, out=tmp_path / "full", progress=False)

    def ctrl_c(info):  # a real SIGINT in the middle of epoch 2
        if info["epoch"] == 2 and info["batch"] == 1:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        fit(spec, backend, data=data, out=tmp_path / "int", progress=False, callback=ctrl_c)
    assert (tmp_path / "int" / "checkpoints" / "epoch_0001_b000001").is_dir()
    resumed = fit(spec, backend, data=data, out=tmp_path / "int", resume=True, progress=False)
    _equal(resumed.params, full.params)
    assert resumed.history == full.history

    def crash(info):  # dies without a graceful checkpoint: resume from the epoch-2 one
        if info["epoch"] == 3 and info["batch"] == 2:
            raise RuntimeError("worker died")

    with pytest.raises(RuntimeError):
        fit(spec, backend, data=data, out=tmp_path / "crash", progress=False, callback=crash)
    assert [p.name for p in R.list_checkpoints(tmp_path / "crash")] == ["epoch_0001", "epoch_0002"]
    resumed = fit(spec, backend, data=data, out=tmp_path / "crash", resume=True, progress=False)
    _equal(resumed.params, full.params)

    spec2, params, man = load_run(tmp_path / "full")
    _equal(params, full.params)
    assert man["backend"] == backend and man["spec_sha256"] == spec.hash() and man["dtype"] == "float64"
    assert spec2.raw == spec.raw


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    # plain SGD with a huge lr on MSE diverges to inf after a few epochs
    spec = from_dict({"input": {"shape": [4]}, "model": [{"type": "Dense", "units": 2}],
                      "train": {"dtype": "float32", "epochs": 200, "batch_size": 8, "loss": "mse", "metrics": [],
                                "optimizer": {"type": "sgd", "lr": 3.0}}})
    rng = np.random.default_rng(0)
    data = ArrayData((rng.normal(size=(16, 4)).astype(np.float32) * 3, rng.normal(size=(16, 2)).astype(np.float32)))
    with pytest.raises(TrainingError) as e:
        fit(spec, "torch", data=data, out=tmp_path, progress=False)
    msg = str(e.value)
    assert "at epoch" in msg and "batch" in msg and "last good checkpoint" in msg
    ck = R.latest_checkpoint(tmp_path)
    assert ck.path.name in msg
    assert all(np.all(np.isfinite(v)) for v in ck.params.values())
    assert not (tmp_path / "weights.safetensors").exists()
    assert json.loads((tmp_path / "metrics.json").read_text())["status"] == "failed"


def test_corrupt_latest_checkpoint_falls_back(tmp_path):
    spec = _spec(epochs=3)
    fit(spec, "torch", data=_data(), out=tmp_path, progress=False)
    last = R.list_checkpoints(tmp_path)[-1]
    w = last / "weights.safetensors"
    w.write_bytes(b"\0" * w.stat().st_size)  # zeroed file
    with pytest.warns(UserWarning, match="falling back"):
        ck = R.latest_checkpoint(tmp_path)
    assert ck.path.name == "epoch_0002"
    for p in R.list_checkpoints(tmp_path):
        (p / "state.json").write_text("{not json")
    with pytest.warns(UserWarning), pytest.raises(FormatError, match="no readable checkpoint"):
        R.latest_checkpoint(tmp_path)


def test_load_run_errors(tmp_path):
    with pytest.raises(FormatError, match="no such run folder"):
        load_run(tmp_path / "nope")
    fit(_spec(epochs=1), "torch", data=_data(), out=tmp_path, progress=False)
    (tmp_path / "manifest.json").write_text("[1")
    with pytest.raises(FormatError, match="manifest.json"):
        load_run(tmp_path)
    (tmp_path / "weights.safetensors").unlink()
    with pytest.raises(FormatError, match="weights.safetensors: missing"):
        load_run(tmp_path)


def test_early_stopping_restores_best_and_class_weights(tmp_path):
    # lr large enough that validation loss stops improving; the final weights are the best epoch's
    spec = _spec(epochs=30, optimizer={"type": "sgd", "lr": 2.0}, schedule="constant", class_weights="balanced",
                 early_stopping={"patience": 2, "restore_best": True})
    r = fit(spec, "torch", data=_data(), out=tmp_path, progress=False)
    assert r.stopped_early and r.best_epoch is not None and len(r.history) == r.best_epoch + 2
    best = min(h["val_loss"] for h in r.history)
    assert r.history[r.best_epoch - 1]["val_loss"] == best
    ck = R.latest_checkpoint(tmp_path)
    _equal(ck.best, r.params)


def test_import_xnn_and_xnn_train_do_not_import_frameworks():
    code = ("import sys, xnn, xnn.train, xnn.train.loop, xnn.train.optim; "
            "bad = [m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def test_callback_returning_true_stops_like_max_steps(tmp_path):
    """A callback that returns True ends training after that step, exactly where max_steps
    would: the same weights, checkpoint and test score; any other return value goes on."""
    data, spec = _data(), _spec()
    seen = []
    by_cb = fit(spec, "torch", data=data, out=tmp_path / "cb", progress=False,
                callback=lambda info: seen.append(info["step"]) or info["step"] == 5)
    by_max = fit(spec, "torch", data=data, out=tmp_path / "max", progress=False, max_steps=5)
    assert seen == [1, 2, 3, 4, 5]
    _equal(by_cb.params, by_max.params)
    assert by_cb.test == by_max.test and by_cb.history == by_max.history
    assert [p.name for p in R.list_checkpoints(tmp_path / "cb")] == [p.name for p in R.list_checkpoints(tmp_path / "max")]
    full = fit(spec, "torch", data=data, progress=False, callback=lambda info: 1)  # truthy, not True
    assert len(full.history) == 4
