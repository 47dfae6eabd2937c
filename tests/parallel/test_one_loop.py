"""One loop for every mode: a parallel run records what a single-process run records.

Every run goes through ``xnn train`` (the launcher, the workers' fit, rank 0's run folder). In
float64 a 2-epoch sync data-parallel run and a 2-epoch pipeline run equal the single-process run
in weights (1e-8) and in every history field, validation and test metrics included; early
stopping (with class weights) stops at the same epoch and restores the same weights; a NaN stop
ends a parallel run like a single-process one."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from .helpers import ROOT, assert_params_close, env_base, load_params, mlp_spec, write_spec

pytestmark = [pytest.mark.timeout(400), pytest.mark.slow]


def _train(spec: Path, out: Path, backend: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "xnn", "train", str(spec), "--backend", backend, "--out", str(out),
                           *extra], cwd=ROOT, env={**os.environ, **env_base()}, capture_output=True, text=True,
                          timeout=380)


def _metrics(run: Path) -> dict:
    return json.loads((run / "metrics.json").read_text())


def _same_run(a: Path, b: Path, rtol: float = 1e-8) -> None:
    ma, mb = _metrics(a), _metrics(b)
    assert len(ma["history"]) == len(mb["history"])
    for ha, hb in zip(ma["history"], mb["history"]):
        assert ha.keys() == hb.keys(), (ha.keys(), hb.keys())
        for k in hb:
            assert ha[k] == pytest.approx(hb[k], rel=rtol, abs=rtol), (k, ha[k], hb[k])
    assert ma["test"].keys() == mb["test"].keys()
    for k in mb["test"]:
        assert ma["test"][k] == pytest.approx(mb["test"][k], rel=rtol, abs=rtol), k
    assert (ma["best_epoch"], ma["stopped_early"]) == (mb["best_epoch"], mb["stopped_early"])
    assert_params_close(load_params(a / "weights.safetensors"), load_params(b / "weights.safetensors"), rtol)


CASES = [
    ("torch", dict(mode="data", workers=2, sync_batchnorm=True, timeout_s=30), True),
    ("torch", dict(mode="model", stages=2, microbatches=4, timeout_s=30), False),
    ("keras", dict(mode="data", workers=2, sync_batchnorm=True, timeout_s=30), True),
    ("keras", dict(mode="model", stages=2, microbatches=4, timeout_s=30), False),
]


@pytest.mark.parametrize("backend,parallel,bn", CASES, ids=["torch-ddp", "torch-pipeline", "keras-mirrored",
                                                              "keras-pipeline"])
def test_parallel_run_equals_single_process_run(tmp_path, backend, parallel, bn):
    d = mlp_spec(batchnorm=bn, **parallel)  # 2 epochs, float64, accuracy, val and test splits
    d["train"]["clip_grad_norm"] = 0.3  # active on most steps: the clip must see the global gradient
    one = write_spec(tmp_path, {**d, "parallel": {}}, "one.yaml")
    par = write_spec(tmp_path, d, "par.yaml")
    r = _train(one, tmp_path / "one", backend, "--quiet")
    assert r.returncode == 0, r.stderr[-3000:]
    r = _train(par, tmp_path / "par", backend)
    assert r.returncode == 0, r.stderr[-3000:]
    # what a parallel run prints is what a single-process run prints: labelled epochs from 1, the test result
    assert "epoch 1/2" in r.stderr and "epoch 2/2" in r.stderr and "test: loss" in r.stdout, r.stderr[-2000:]
    assert "{" not in r.stderr, r.stderr[-2000:]  # no raw dicts or JSON
    _same_run(tmp_path / "par", tmp_path / "one")
    man = json.loads((tmp_path / "par" / "manifest.json").read_text())
    assert man["kind"] == "train" and man["status"] == "finished" and man["parallel"]["mode"] == parallel["mode"]


def test_early_stopping_and_class_weights_in_a_ddp_run(tmp_path):
    d = mlp_spec(batchnorm=False, mode="data", workers=2, timeout_s=30)
    d["train"].update(epochs=12, class_weights="balanced", optimizer={"type": "sgd", "lr": 1.5},
                      early_stopping={"patience": 1, "min_delta": 0.02, "restore_best": True})
    one = write_spec(tmp_path, {**d, "parallel": {}}, "one.yaml")
    par = write_spec(tmp_path, d, "par.yaml")
    assert _train(one, tmp_path / "one", "torch", "--quiet").returncode == 0
    r = _train(par, tmp_path / "par", "torch")
    assert r.returncode == 0, r.stderr[-3000:]
    m = _metrics(tmp_path / "par")
    assert m["stopped_early"] and len(m["history"]) < 12, m["history"]  # the case stops early
    assert "early stopping after epoch" in r.stderr
    _same_run(tmp_path / "par", tmp_path / "one")


def test_nan_stop_in_a_parallel_run(tmp_path):
    d = mlp_spec(batchnorm=False, mode="data", workers=2, timeout_s=30)
    d["train"]["optimizer"] = {"type": "sgd", "lr": 1.0e+30}
    d["model"][3]["fn"] = "relu"  # no tanh to saturate the blown-up weights back into range
    r = _train(write_spec(tmp_path, d), tmp_path / "run", "torch", "--quiet")
    assert r.returncode == 1, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    assert "loss is nan" in r.stderr or "validation loss is" in r.stderr, r.stderr[-2000:]
    man = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert man["status"] == "failed"


def test_python_fit_of_a_parallel_spec_returns_the_run(tmp_path):
    import xnn

    d = mlp_spec(batchnorm=False, mode="data", workers=2, timeout_s=30)
    d["train"]["epochs"] = 1
    r = xnn.fit(xnn.from_dict(d), "torch", out=tmp_path / "run", progress=False)
    assert [h["epoch"] for h in r.history] == [1] and r.test is not None and "d1.weight" in r.params


KILL_CASES = [  # backend, parallel section, rank that dies, exact resume (sync and pipeline) or not (async)
    ("torch", dict(mode="model", stages=2, microbatches=4, timeout_s=30), 1, True),
    ("keras", dict(mode="model", stages=2, microbatches=4, timeout_s=30), 0, True),
    ("torch", dict(mode="data", workers=2, sync=False, max_staleness=2, timeout_s=30), 1, False),
]


@pytest.mark.parametrize("backend,parallel,rank,exact", KILL_CASES, ids=["torch-pipeline", "keras-pipeline",
                                                                          "torch-async"])
def test_killed_mid_epoch_then_resumed(tmp_path, backend, parallel, rank, exact):
    """A worker SIGKILLed mid-epoch 2 stops ``xnn train``; ``xnn train --resume`` continues from
    the epoch-end checkpoint. Sync and pipeline runs end as an uninterrupted run does."""
    d = mlp_spec(batchnorm=False, **parallel)
    d["train"]["epochs"] = 2 if exact else 3  # async: worker 1's 8th batch is past epoch 1 (9 batches, 2 workers)
    spec = write_spec(tmp_path, d)
    if exact:
        assert _train(spec, tmp_path / "full", backend, "--quiet").returncode == 0
    part = tmp_path / "part"
    env = {**os.environ, **env_base(), "XNN_FAULT": f"kill@{12 if exact else 8}:{rank}"}
    r = subprocess.run([sys.executable, "-m", "xnn", "train", str(spec), "--backend", backend, "--out", str(part),
                        "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=380)
    assert r.returncode == 1 and "killed by signal 9" in r.stderr, r.stderr[-2000:]
    assert not (part / "weights.safetensors").exists()
    assert json.loads((part / "manifest.json").read_text())["status"] in ("running", "failed")
    r = _train(spec, part, backend, "--resume")
    assert r.returncode == 0, r.stderr[-3000:]
    # sync and pipeline die in epoch 2 (step 12 of 9 per epoch); async wherever worker 1's 8th batch fell
    resumed = ["from checkpoint epoch_0001"] if exact else ["from checkpoint epoch_0001", "from checkpoint epoch_0002"]
    assert "resuming" in r.stderr and any(w in r.stderr for w in resumed), r.stderr[-2000:]
    m = _metrics(part)
    assert [h["epoch"] for h in m["history"]] == list(range(1, d["train"]["epochs"] + 1))
    if exact:
        _same_run(part, tmp_path / "full", rtol=1e-12)
    else:
        assert m["staleness"]["max_staleness_observed"] <= 2
        assert m["steps"] == 3 * 9  # every batch of every epoch applied once
