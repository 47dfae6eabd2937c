"""train, compare, demo through the CLI (these call xnn.train.fit)."""
import json
import subprocess
import sys

import numpy as np
import pytest

import xnn

from .conftest import EXAMPLES, run_xnn

TINY = EXAMPLES / "iris_mlp.yaml"


def test_train_evaluate_predict_one_epoch(tmp_path):
    out = tmp_path / "run"
    r = run_xnn("train", TINY, "--backend", "torch", "--out", out, "--set", "train.epochs=1", "--quiet")
    assert r.returncode == 0, r.stderr
    assert "test: loss" in r.stdout and f"run written to {out}" in r.stdout
    for name in ("spec.yaml", "weights.safetensors", "manifest.json", "metrics.json"):
        assert (out / name).is_file(), name
    spec = xnn.load_spec(out / "spec.yaml")
    assert spec.train.epochs == 1
    metrics = json.loads((out / "metrics.json").read_text())

    r = run_xnn("evaluate", out, "--json")
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    assert ev["n"] == 30 and ev["accuracy"] == pytest.approx(metrics["test"]["accuracy"])

    from sklearn.datasets import load_iris

    data = tmp_path / "x.npz"
    np.savez(data, x=load_iris().data[:7])
    r = run_xnn("predict", out, "--data", data)
    assert r.returncode == 0, r.stderr
    pred = np.load(tmp_path / "x_pred.npz", allow_pickle=False)
    assert pred["outputs"].shape == (7, 3) and pred["labels"].shape == (7,)


def test_train_refuses_a_foreign_folder(cli, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    code, _, err = cli("train", TINY, "--out", out, "--epochs", "1")
    assert code == 2 and "is not an xnn run" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]


def test_train_bad_data_file_is_one_line_and_writes_nothing(cli, tmp_path):
    bad = tmp_path / "d.npz"
    x = np.random.default_rng(0).normal(size=(30, 4))
    x[4, 0] = np.nan
    np.savez(bad, x=x, y=np.arange(30) % 3)
    out = tmp_path / "run"
    code, _, err = cli("train", TINY, "--out", out, "--set", f"data.source={bad}", "--epochs", "1", "--quiet")
    assert code == 2 and err.strip() == f"error: {bad}: x: contains NaN or Inf (first in sample 4)"
    assert not out.exists() or not any(out.iterdir())


def test_train_bad_spec_value(cli, tmp_path):
    code, _, err = cli("train", TINY, "--out", tmp_path / "r", "--backend", "torch", "--set", "train.batch_size=0")
    assert code == 2 and "train.batch_size: must be > 0" in err


def test_compare_dropout_statistics_and_exact(tmp_path):
    spec = EXAMPLES / "digits_mlp.yaml"  # has a Dropout
    out = tmp_path / "cmp"
    r = run_xnn("compare", spec, "--epochs", "1", "--set", "data.options.n_samples=400", "--out", out, "--quiet")
    assert r.returncode == 0, r.stderr
    assert "compared as statistics" in r.stdout
    assert (out / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out / "compare.json").read_text())
    assert summary["divergence"]["stochastic"] is True
    assert set(summary["test"]) == {"torch", "keras"}

    out2 = tmp_path / "exact"
    plot = tmp_path / "curves.png"
    r = run_xnn("compare", spec, "--epochs", "2", "--set", "data.options.n_samples=400", "--exact",
                "--out", out2, "--plot", plot, "--quiet", "--tol", "0.01")
    assert r.returncode == 0, r.stderr + r.stdout
    assert "largest divergence" in r.stdout and "--exact" in r.stdout
    assert plot.read_bytes()[:4] == b"\x89PNG"
    s2 = json.loads((out2 / "compare.json").read_text())
    assert s2["divergence"]["stochastic"] is False and s2["divergence"]["max_rel"] < 0.01
    run_spec = xnn.load_spec(out2 / "torch" / "spec.yaml")
    assert all(n.layer.rate == 0 for n in run_spec.nodes if n.kind == "Dropout")


@pytest.mark.slow
def test_demo_reaches_the_target_from_any_folder(tmp_path):
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    out = tmp_path / "demo"
    r = run_xnn("demo", "--out", out, "--quiet", cwd=cwd, timeout=900)
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "compare.json").read_text())
    for backend in ("torch", "keras"):
        assert summary["test"][backend]["accuracy"] >= 0.95, summary["test"]
        assert f"test accuracy {backend}:" in r.stdout


def _tiny_lr_args(out):
    # an lr so small that one epoch leaves the weights where they started (float32 keeps 1e-30)
    return ("--backend", "torch", "--out", out, "--set", "train.epochs=1", "--set", "train.optimizer.lr=1e-30", "--quiet")


def test_train_init_fine_tunes_from_a_file_or_a_run(tmp_path):
    spec = xnn.load_spec(TINY)
    start = {k: v.astype(np.float32) for k, v in xnn.init_params(spec, 123).items()}
    fresh = xnn.init_params(spec, spec.train.seed)
    w = tmp_path / "start.safetensors"
    xnn.save_weights(w, start)
    r = run_xnn("train", TINY, *_tiny_lr_args(tmp_path / "a"), "--init", w)
    assert r.returncode == 0, r.stderr
    got = xnn.load_weights(tmp_path / "a" / "weights.safetensors")
    for k in start:
        np.testing.assert_allclose(got[k], start[k], rtol=1e-6, atol=1e-7)
    assert not np.allclose(got["hidden.weight"], fresh["hidden.weight"])  # not the spec's own seed
    # a run folder as the starting point
    r = run_xnn("train", TINY, *_tiny_lr_args(tmp_path / "b"), "--init", tmp_path / "a")
    assert r.returncode == 0, r.stderr
    got_b = xnn.load_weights(tmp_path / "b" / "weights.safetensors")
    for k in start:
        np.testing.assert_allclose(got_b[k], start[k], rtol=1e-6, atol=1e-7)


def test_train_init_that_does_not_fit_is_one_clear_error(tmp_path):
    other = xnn.load_spec(EXAMPLES / "digits_mlp.yaml")
    w = tmp_path / "other.safetensors"
    xnn.save_weights(w, {k: v.astype(np.float32) for k, v in xnn.init_params(other, 0).items()})
    r = run_xnn("train", TINY, *_tiny_lr_args(tmp_path / "c"), "--init", w)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    first = r.stderr.strip().splitlines()[0]
    assert f"--init {w}" in first and "does not fit the spec" in first
    assert not (tmp_path / "c").exists()
    r = run_xnn("train", TINY, *_tiny_lr_args(tmp_path / "d"), "--init", tmp_path / "nothing.safetensors")
    assert r.returncode == 2 and "no such run folder or file" in r.stderr


def test_train_refuses_a_spec_without_data(tmp_path):
    p = tmp_path / "nodata.yaml"
    p.write_text("input: {shape: [4]}\nmodel: [{type: Dense, units: 3}]\n")
    r = run_xnn("train", p, "--out", tmp_path / "run", "--quiet")
    assert r.returncode == 2 and "data: required by xnn train" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "run").exists()


def test_train_refuses_a_device_the_backend_does_not_have(cli, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device: the refusal cannot be observed")
    code, _, err = cli("train", TINY, "--out", tmp_path / "r", "--device", "cuda", "--quiet")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--device cuda" in err, err
    assert not (tmp_path / "r").exists()


def test_compare_labels_each_backend_and_keeps_no_temp_folder(tmp_path):
    """Without --out the runs go to a temporary folder that is removed; each backend's epoch lines
    come under a label."""
    import os

    env_tmp = tmp_path / "sys_tmp"
    env_tmp.mkdir()
    r = subprocess.run([sys.executable, "-m", "xnn", "compare", str(EXAMPLES / "iris_mlp.yaml"), "--epochs", "1"],
                       capture_output=True, text=True, timeout=300, env={**os.environ, "TMPDIR": str(env_tmp)})
    assert r.returncode == 0, r.stderr
    assert r.stdout.index("--- torch ---") < r.stdout.index("--- keras ---")
    assert "runs not kept" in r.stdout
    assert not [p for p in env_tmp.iterdir() if p.name.startswith("xnn-compare-")]
