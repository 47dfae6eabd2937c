"""Run folders keep a user's data: --force moves an old run aside instead of deleting it; a run
predicts without its training data and identically elsewhere; divergence and failing steps stop
with status failed and strict JSON; full disks and read-only folders are one line, nothing torn."""
from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.hostile.corpus import TINY_SPEC
from tests.hostile.harness import assert_refused, assert_unchanged, run_cli, snapshot

CSV_SPEC = """xnn: 1
name: csv_mlp
input: {shape: [4]}
model:
  - {type: Dense, name: hidden, units: 8}
  - {type: relu, name: act}
  - {type: Dense, name: logits, units: 3}
train: {epochs: 2, batch_size: 16, seed: 0, loss: cross_entropy, optimizer: {type: adam, lr: 0.01}}
data: {source: train.csv, x: standardize, split: {val: 0.2, test: 0.2}, options: {target: label}}
"""


def _strict_json(path: Path):
    def bad(c):
        raise AssertionError(f"{path}: bare {c} is not JSON")

    return json.loads(path.read_text(), parse_constant=bad)


def _iris_csv(path: Path, scale: float = 1.0) -> None:
    from sklearn.datasets import load_iris

    d = load_iris()
    rows = ["f0,f1,f2,f3,label"] + [",".join(f"{v * scale:.3f}" for v in x) + f",{y}" for x, y in zip(d.data, d.target)]
    path.write_text("\n".join(rows) + "\n")


@pytest.fixture
def tiny(tmp_path) -> Path:
    p = tmp_path / "tiny.yaml"
    p.write_text(TINY_SPEC)
    return p


def test_force_moves_the_old_run_aside_and_keeps_it_whole(tiny, tmp_path):
    run = tmp_path / "run"
    assert run_cli("train", tiny, "--out", run, "--quiet").code == 0
    before = {str(p.relative_to(run)): v for p, v in ((Path(k), v) for k, v in snapshot(run).items())}
    o = run_cli("train", tiny, "--out", run, "--quiet", "--set", "train.seed=1", "--force")
    assert o.code == 0, o.err
    moved = [p for p in tmp_path.iterdir() if p.name.startswith("run.replaced-")]
    assert len(moved) == 1 and f"aside to {moved[0]}" in o.err
    after = {str(Path(k).relative_to(moved[0])): v for k, v in snapshot(moved[0]).items()}
    assert after == before  # the old run, byte for byte
    assert json.loads((run / "manifest.json").read_text())["seed"] == 1


def test_run_predicts_without_its_training_data_from_anywhere(tmp_path):
    src = tmp_path / "work"
    src.mkdir()
    (src / "spec.yaml").write_text(CSV_SPEC)
    _iris_csv(src / "train.csv")
    x = np.random.default_rng(0).normal(5, 2, size=(9, 4))
    np.savez(tmp_path / "x.npz", x=x)
    assert run_cli("train", "spec.yaml", "--out", "run", "--quiet", cwd=src).code == 0
    man = json.loads((src / "run" / "manifest.json").read_text())
    assert man["preprocess"]["x"]["method"] == "standardize"
    o = run_cli("predict", src / "run", "--data", tmp_path / "x.npz", "--out", tmp_path / "a.npz", cwd=src)
    assert o.code == 0, o.err
    # move the run to "another machine": the training file changes and is then gone
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    shutil.copytree(src / "run", elsewhere / "run")
    _iris_csv(src / "train.csv", scale=3.0)
    o = run_cli("predict", elsewhere / "run", "--data", tmp_path / "x.npz", "--out", tmp_path / "b.npz", cwd=src)
    assert o.code == 0, o.err
    (src / "train.csv").unlink()
    o = run_cli("predict", "run", "--data", tmp_path / "x.npz", "--out", tmp_path / "c.npz", cwd=elsewhere)
    assert o.code == 0, o.err
    a, b, c = (np.load(tmp_path / f"{n}.npz")["outputs"] for n in "abc")
    assert np.array_equal(a, b) and np.array_equal(a, c)


def test_evaluate_refuses_a_test_split_from_changed_data(tmp_path):
    (tmp_path / "spec.yaml").write_text(CSV_SPEC)
    _iris_csv(tmp_path / "train.csv")
    assert run_cli("train", "spec.yaml", "--out", "run", "--quiet", cwd=tmp_path).code == 0
    assert run_cli("evaluate", "run", cwd=tmp_path).code == 0
    _iris_csv(tmp_path / "train.csv", scale=3.0)
    assert_refused(run_cli("evaluate", "run", cwd=tmp_path), names="manifest.json", field="no longer the data")


def test_diverging_weights_stop_before_a_nan_checkpoint(tiny, tmp_path):
    # one step per epoch: the training loss of epoch 1 is finite, the weights after it are not
    run = tmp_path / "run"
    o = run_cli("train", tiny, "--out", run, "--quiet", "--set", "train.optimizer={type: sgd, lr: 1.0e+30}",
                "--set", "train.batch_size=1000", "--set", "train.epochs=3")
    first = assert_refused(o, code=1, field="validation loss")
    assert "last good checkpoint: none" in first
    assert not (run / "checkpoints").exists() or not any((run / "checkpoints").iterdir())
    man = _strict_json(run / "manifest.json")
    assert man["status"] == "failed" and "validation loss" in man["error"]
    assert _strict_json(run / "metrics.json")["status"] == "failed"


def test_overflowing_step_is_one_line_and_marks_the_run_failed(tiny, tmp_path):
    run = tmp_path / "run"
    o = run_cli("train", tiny, "--out", run, "--quiet", "--set", "train.optimizer.lr=3.0e+38")
    assert_refused(o, code=1)
    man = _strict_json(run / "manifest.json")
    assert man["status"] == "failed"
    for f in run.rglob("*.json"):
        _strict_json(f)


def test_resume_with_force_and_a_larger_epoch_count(tiny, tmp_path):
    run = tmp_path / "run"
    assert run_cli("train", tiny, "--out", run, "--quiet").code == 0
    o = run_cli("train", tiny, "--out", run, "--resume", "--epochs", "3", "--quiet")
    assert o.code == 0, o.err  # more epochs is what resuming is for
    assert len(json.loads((run / "metrics.json").read_text())["history"]) == 3
    other = tmp_path / "other.yaml"
    other.write_text(TINY_SPEC.replace("lr: 0.01", "lr: 0.02"))
    o = run_cli("train", other, "--out", run, "--resume", "--epochs", "4", "--quiet", "--force")
    assert o.code == 0 and "warning:" in o.err and "train.optimizer.lr" in o.err


def test_predict_warns_about_a_hand_edited_spec(tiny, tmp_path):
    run = tmp_path / "run"
    assert run_cli("train", tiny, "--out", run, "--quiet").code == 0
    np.savez(tmp_path / "x.npz", x=np.zeros((2, 4)))
    spec = run / "spec.yaml"
    spec.write_text(spec.read_text().replace("name: tiny", "name: tiny2"))
    o = run_cli("predict", run, "--data", tmp_path / "x.npz", "--out", tmp_path / "p.npz")
    assert o.code == 0 and "warning:" in o.err and "spec.yaml" in o.err and "edited" in o.err


def test_export_of_an_unfinished_run_takes_its_newest_checkpoint(tiny, tmp_path):
    run = tmp_path / "run"
    assert run_cli("train", tiny, "--out", run, "--quiet", "--epochs", "2").code == 0
    (run / "weights.safetensors").unlink()
    o = run_cli("export", run, "--onnx", tmp_path / "m.onnx")
    assert o.code == 0 and "epoch_0002" in o.err and "checkpoint" in o.out
    shutil.rmtree(run / "checkpoints")
    assert_refused(run_cli("export", run, "--onnx", tmp_path / "m2.onnx"), names="weights.safetensors")


# ------------------------------------------------------------------------------ full disk, read-only
def _fsize_limit(nbytes: int):
    def pre():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes past the limit fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (nbytes, nbytes))

    return pre


def _run_limited(args, cwd, preexec=None, prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run([*prefix, sys.executable, "-m", "xnn", *map(str, args)], cwd=cwd, env=env,
                          preexec_fn=preexec, capture_output=True, text=True, timeout=600, stdin=subprocess.DEVNULL)


def _one_error_line(r: subprocess.CompletedProcess, code: int = 2) -> str:
    assert "Traceback" not in r.stderr, r.stderr[-2000:]
    assert r.returncode == code, r.stderr[-2000:]
    errs = [ln for ln in r.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errs) == 1, r.stderr
    return errs[0]


@pytest.fixture
def trained(tiny, tmp_path) -> Path:
    run = tmp_path / "run"
    assert run_cli("train", tiny, "--out", run, "--quiet").code == 0
    np.savez(tmp_path / "x.npz", x=np.zeros((5, 4)))
    return run


def test_full_disk_on_every_writing_verb(trained, tiny, tmp_path):
    # RLIMIT_FSIZE makes every write past 600 bytes fail like a full disk (EFBIG)
    pre = _fsize_limit(600)
    before = snapshot(tmp_path)
    line = _one_error_line(_run_limited(["export", trained, "--onnx", tmp_path / "m.onnx"], tmp_path, pre))
    assert "m.onnx" in line and "cannot write" in line
    line = _one_error_line(_run_limited(["export", trained, "--mat", tmp_path / "m.mat"], tmp_path, pre))
    assert "m.mat" in line
    line = _one_error_line(_run_limited(["predict", trained, "--data", tmp_path / "x.npz", "--out",
                                         tmp_path / "p.npy"], tmp_path, _fsize_limit(64)))
    assert "p.npy" in line
    assert_unchanged(before, snapshot(tmp_path))  # no torn or temporary file left behind
    r = _run_limited(["train", tiny, "--out", tmp_path / "r2", "--quiet"], tmp_path, pre)
    line = _one_error_line(r)
    assert "r2" in line and "cannot write" in line
    assert run_cli("export", tiny, "--onnx", tmp_path / "ok.onnx").code == 0  # nothing was left in the way


@pytest.fixture
def readonly(tmp_path):
    """A folder the child cannot write: chmod 555; when we are root (who ignores permissions) the
    child runs through setpriv without the capabilities that bypass them."""
    base = tmp_path / "ro_base"
    base.mkdir()
    prefix: tuple[str, ...] = ()
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv (util-linux): cannot make a folder read-only for a child")
        caps = "-dac_override,-dac_read_search,-fowner"
        prefix = (setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}", "--")

    def make(p: Path):
        for q in [p, *p.rglob("*")]:
            os.chmod(q, 0o555 if q.is_dir() else 0o444)

    yield base, make, prefix
    for q in [base, *base.rglob("*")]:
        os.chmod(q, 0o755 if q.is_dir() else 0o644)


def test_read_only_folders_fail_before_any_training(tiny, readonly):
    base, make_ro, prefix = readonly
    spec = base / "tiny.yaml"
    spec.write_text(TINY_SPEC)
    run = base / "run"
    assert run_cli("train", spec, "--out", run, "--quiet").code == 0
    np.savez(base / "x.npz", x=np.zeros((3, 4)))
    assert run_cli("export", run, "--onnx", base / "m0.onnx").code == 0
    make_ro(base)
    before = snapshot(base)
    r = _run_limited(["train", spec, "--out", run, "--resume", "--epochs", "3", "--quiet"], base, prefix=prefix)
    line = _one_error_line(r)
    assert "cannot write" in line and "run" in line
    assert "epoch 2" not in r.stderr + r.stdout  # refused before training, not after an epoch
    r = _run_limited(["predict", run, "--data", base / "x.npz", "--out", base / "p.npz"], base, prefix=prefix)
    assert "p.npz" in _one_error_line(r)
    r = _run_limited(["export", run, "--onnx", base / "m.onnx"], base, prefix=prefix)
    assert "m.onnx" in _one_error_line(r)
    r = _run_limited(["import", base / "m0.onnx", "--out", base / "imp"], base, prefix=prefix)
    assert "imp" in _one_error_line(r) and "cannot write" in r.stderr
    r = _run_limited(["train", spec, "--out", base / "new", "--quiet"], base, prefix=prefix)
    assert "new" in _one_error_line(r)
    assert_unchanged(before, snapshot(base))


def test_resume_may_add_tensorboard_and_old_hashes_hold(tmp_path):
    """Logging is not part of what was trained: --resume may add or change train.tensorboard; an
    unset tensorboard leaves the resolved spec (and so its hash) as before the field existed."""
    import xnn
    from xnn.errors import OutputError
    from xnn.train.run import check_resume

    base = {"input": {"shape": [4]}, "model": [{"type": "Dense", "units": 3}],
            "train": {"epochs": 1, "batch_size": 16}, "data": {"source": "iris"}}
    spec = xnn.load_spec(base)
    assert "tensorboard" not in spec.raw["train"]
    out = tmp_path / "run"
    xnn.fit(spec, backend="torch", out=out, progress=False)
    logged = xnn.load_spec({**base, "train": {**base["train"], "epochs": 2, "tensorboard": str(tmp_path / "tb")}})
    check_resume(out, logged)  # no OutputError
    other = xnn.load_spec({**base, "train": {**base["train"], "batch_size": 8}})
    with pytest.raises(OutputError, match="train.batch_size"):
        check_resume(out, other)
