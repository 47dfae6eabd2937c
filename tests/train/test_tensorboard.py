"""train.tensorboard: TensorBoard event files from both backends with the same tags, read back
with TensorBoard's own EventAccumulator; canonical gradients before clipping; diagnostics.json.

Scalars in event files are float32 (TensorBoard's data server shows no float64 scalars), so
cross-backend scalar values there are compared to one float32 rounding (2**-23 relative); the
float64 values (metrics.json, diagnostics.json) are compared to 1e-8 relative like every
float64 trajectory (helpers.RTOL_TRAJ)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from xnn.spec import from_dict
from xnn.train import fit

from .helpers import BACKENDS, RTOL_STEP, RTOL_TRAJ, linear_grads, linear_spec, make_trainer

F32 = 2.0 ** -23  # one float32 rounding, relative
ROOT = Path(__file__).resolve().parents[2]


def mlp(tb: dict | None, epochs: int = 3, **train) -> dict:
    """8 features -> Dense 12 (no bias: BatchNorm cancels its gradient to rounding noise) -> BatchNorm
    -> relu -> Dense 6 -> tanh -> Dense 3, float64, Adam, clipping active (the logged norms are the
    ones before clipping)."""
    model = [{"type": "Dense", "units": 12, "name": "d1", "use_bias": False}, {"type": "BatchNorm", "name": "bn1"},
             {"type": "Activation", "fn": "relu", "name": "a1"}, {"type": "Dense", "units": 6, "name": "d2"},
             {"type": "Activation", "fn": "tanh", "name": "a2"}, {"type": "Dense", "units": 3, "name": "d3"}]
    t = {"epochs": epochs, "batch_size": 16, "seed": 3, "dtype": "float64", "optimizer": {"type": "adam", "lr": 0.01},
         "clip_grad_norm": 0.5, "metrics": ["accuracy"], "threads": 1, **train}
    if tb is not None:
        t["tensorboard"] = tb
    return {"name": "mlp", "input": {"shape": [8], "dtype": "float64"}, "model": model, "train": t,
            "data": {"source": "synthetic_classification", "options": {"n_samples": 120}, "x": "standardize",
                     "split": {"val": 0.2, "test": 0.2}}}


def events(logdir: Path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ea = EventAccumulator(str(logdir), size_guidance={"scalars": 0, "histograms": 0, "tensors": 0})
    ea.Reload()
    return ea


PARAMS = ["d1.weight", "bn1.weight", "bn1.bias", "d2.weight", "d2.bias", "d3.weight", "d3.bias"]
SCALARS = ({"step/loss", "step/lr", "step/accuracy", "grad_norm/total", "epoch/loss", "epoch/accuracy",
            "epoch/val_loss", "epoch/val_accuracy", "epoch/lr", "test/loss", "test/accuracy"}
           | {f"grad_norm/{p}" for p in PARAMS} | {f"weight_norm/{p}" for p in PARAMS})
HISTOGRAMS = {f"weights/{p}" for p in PARAMS} | {f"gradients/{p}" for p in PARAMS}


def test_both_backends_write_the_same_tags_and_values(tmp_path):
    runs = {}
    for b in BACKENDS:
        spec = from_dict(mlp({"dir": str(tmp_path / f"tb_{b}"), "graph": True}))
        fit(spec, backend=b, out=tmp_path / b, progress=False)
        runs[b] = events(tmp_path / f"tb_{b}")
    ea_t, ea_k = runs["torch"], runs["keras"]
    for ea in (ea_t, ea_k):
        tags = ea.Tags()
        assert set(tags["scalars"]) == SCALARS  # running_mean/var are buffers: no norms, no histograms
        assert set(tags["histograms"]) == HISTOGRAMS
        assert tags["tensors"] == ["spec"] and tags["graph"] is True
        assert "name: mlp" in ea.Tensors("spec")[0].tensor_proto.string_val[0].decode()
    spe = 5  # 72 training samples in batches of 16
    assert [e.step for e in ea_t.Scalars("step/loss")] == list(range(1, 3 * spe + 1))  # every step
    assert [e.step for e in ea_t.Scalars("epoch/loss")] == [1, 2, 3]
    assert [e.step for e in ea_t.Histograms("weights/d1.weight")] == [spe, 2 * spe, 3 * spe]  # once an epoch
    for tag in sorted(SCALARS):
        a, b = ea_t.Scalars(tag), ea_k.Scalars(tag)
        assert [e.step for e in a] == [e.step for e in b], tag
        np.testing.assert_allclose([e.value for e in b], [e.value for e in a], rtol=F32, atol=0, err_msg=tag)
    for tag in sorted(HISTOGRAMS):
        ha, hb = ea_t.Histograms(tag)[-1].histogram_value, ea_k.Histograms(tag)[-1].histogram_value
        assert ha.num == hb.num and ha.min == pytest.approx(hb.min, rel=RTOL_TRAJ, abs=1e-12), tag

    # float64 values: losses (metrics.json) and per-epoch norms (diagnostics.json)
    mt, mk = (json.loads((tmp_path / b / "metrics.json").read_text()) for b in BACKENDS)
    for ht, hk in zip(mt["history"], mk["history"]):
        for k in ("loss", "val_loss"):
            assert hk[k] == pytest.approx(ht[k], rel=RTOL_TRAJ), k
    dt, dk = (json.loads((tmp_path / b / "diagnostics.json").read_text()) for b in BACKENDS)
    assert [r["epoch"] for r in dt["epochs"]] == [1, 2, 3] and dt["epochs"][0]["logged_steps"] == spe
    for rt, rk in zip(dt["epochs"], dk["epochs"]):
        assert rt.keys() == rk.keys()
        for key in ("grad_norm", "grad_norm_max", "weight_norm"):
            assert list(rt[key]) == PARAMS, key
            for p in PARAMS:
                assert rk[key][p] == pytest.approx(rt[key][p], rel=RTOL_TRAJ), (key, p)
        assert rk["grad_norm_total"] == pytest.approx(rt["grad_norm_total"], rel=RTOL_TRAJ)
    # the event file's grad norms are the float64 ones rounded once
    first = {e.step: e.value for e in ea_t.Scalars("grad_norm/d1.weight")}
    n = dt["epochs"][0]["grad_norm"]["d1.weight"]
    assert float(np.mean([first[s] for s in range(1, spe + 1)])) == pytest.approx(n, rel=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_last_gradients_are_canonical_and_before_clipping(backend):
    """One step of the two-Dense linear model: the kept gradients equal NumPy's (canonical
    layout, before clipping by train.clip_grad_norm) and are kept only when asked for."""
    from xnn.init import init_params

    spec = linear_spec({"loss": "mse", "optimizer": {"type": "sgd", "lr": 0.1}, "clip_grad_norm": 1e-3})
    p0 = init_params(spec, seed=1)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(6, 4)), rng.normal(size=(6, 3))
    _, g = linear_grads(spec, p0, x, y)
    _, _, tr = make_trainer(backend, spec, p0)
    tr.train_step(x, y)
    assert tr.last_gradients() is None  # not asked for: nothing kept, nothing copied
    _, _, tr = make_trainer(backend, spec, p0)
    tr.keep_grads = True
    tr.train_step(x, y)
    got = tr.last_gradients()
    assert list(got) == ["d1.weight", "d1.bias", "d2.weight", "d2.bias"]
    for k in g:
        assert got[k].shape == g[k].shape
        np.testing.assert_allclose(got[k], g[k], rtol=RTOL_STEP, atol=RTOL_STEP * np.abs(g[k]).max(), err_msg=k)
    assert tr.last_gradients() is None and tr.keep_grads is False  # read once; the next step keeps none


def test_every_and_histogram_every_choose_the_steps(tmp_path):
    d = mlp({"dir": str(tmp_path / "tb"), "every": 2, "histogram_every": 3}, epochs=2)
    fit(from_dict(d), backend="torch", out=tmp_path / "run", progress=False)
    ea = events(tmp_path / "tb")
    n = 2 * 5  # ceil(72 / 16) = 5 steps an epoch
    assert [e.step for e in ea.Scalars("step/loss")] == list(range(1, n + 1, 2))
    assert [e.step for e in ea.Scalars("grad_norm/d2.weight")] == list(range(1, n + 1, 2))
    assert [e.step for e in ea.Histograms("gradients/d2.weight")] == list(range(1, n + 1, 3))
    assert [e.step for e in ea.Histograms("weights/d2.weight")] == list(range(1, n + 1, 3))
    diag = json.loads((tmp_path / "run" / "diagnostics.json").read_text())
    assert [r["logged_steps"] for r in diag["epochs"]] == [3, 2] and diag["every"] == 2
    assert "tensorboard" not in json.loads((tmp_path / "run" / "metrics.json").read_text())


def test_resumed_run_records_the_same_diagnostics(tmp_path):
    """Interrupted inside epoch 2 (max_steps) and resumed: diagnostics.json equals the
    uninterrupted run's (the epoch's partial gradient-norm sums travel in the checkpoint)."""
    d = mlp({"dir": str(tmp_path / "tb_full")})
    fit(from_dict(d), backend="torch", out=tmp_path / "full", progress=False)
    d = mlp({"dir": str(tmp_path / "tb_cut")})
    fit(from_dict(d), backend="torch", out=tmp_path / "cut", progress=False, max_steps=7)
    fit(from_dict(d), backend="torch", out=tmp_path / "cut", progress=False, resume=True)
    full, cut = (json.loads((tmp_path / r / "diagnostics.json").read_text())["epochs"] for r in ("full", "cut"))
    assert len(full) == len(cut) == 3
    for a, b in zip(full, cut):
        assert a["logged_steps"] == b["logged_steps"]
        for p in PARAMS:
            assert b["grad_norm"][p] == pytest.approx(a["grad_norm"][p], rel=RTOL_TRAJ)
            assert b["weight_norm"][p] == pytest.approx(a["weight_norm"][p], rel=RTOL_TRAJ)
    ea = events(tmp_path / "tb_cut")  # two event files, one log: every step once
    assert [e.step for e in ea.Scalars("step/loss")] == list(range(1, 16))


def test_cli_flag_and_bad_dir(capsys, tmp_path):
    from xnn.cli import main

    def cli(*argv):
        code = main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    spec = ROOT / "examples" / "iris_mlp.yaml"
    code, out, err = cli("train", spec, "--out", tmp_path / "run", "--epochs", "1", "--quiet",
                         "--tensorboard", tmp_path / "tb")
    assert code == 0, err
    assert len(list((tmp_path / "tb").glob("events.out.tfevents.*"))) == 1
    import xnn

    assert xnn.load_spec(tmp_path / "run" / "spec.yaml").train.tensorboard.dir == str(tmp_path / "tb")
    (tmp_path / "afile").write_text("x")
    code, _, err = cli("train", spec, "--out", tmp_path / "run2", "--epochs", "1", "--quiet",
                       "--tensorboard", tmp_path / "afile")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "train.tensorboard.dir (--tensorboard)" in err and str(tmp_path / "afile") in err


def test_writer_imports_no_framework(tmp_path):
    code = ("import sys; from xnn.train.tensorboard import EventFile; import numpy as np\n"
            f"f = EventFile({str(tmp_path)!r}); f.scalars({{'a': 1.5}}, 1); f.histograms({{'h': np.arange(5.0)}}, 1)\n"
            "f.text('t', 'hello'); f.close()\n"
            "bad = [m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules]; assert not bad, bad")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert r.returncode == 0, r.stderr
    ea = events(tmp_path)
    assert [e.value for e in ea.Scalars("a")] == [1.5]
    h = ea.Histograms("h")[0].histogram_value
    assert (h.num, h.min, h.max, h.sum, h.sum_squares) == (5, 0.0, 4.0, 10.0, 30.0) and sum(h.bucket) == 5


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_data_parallel_run_logs_from_rank_0_only(tmp_path):
    """parallel.mode data, 2 workers: one event file (rank 0's), the loop's tags, weight norms equal
    to a single-process run's; the parallel engines keep no gradients (no grad_norm tags)."""
    import yaml

    d = mlp({"dir": str(tmp_path / "tb_par")}, epochs=2)
    d["model"] = [m for m in d["model"] if m["type"] != "BatchNorm"]  # plain DDP
    d["model"][0]["use_bias"] = True
    d["parallel"] = {"mode": "data", "workers": 2, "timeout_s": 60}
    (tmp_path / "par.yaml").write_text(yaml.safe_dump(d))
    r = subprocess.run([sys.executable, "-m", "xnn", "train", str(tmp_path / "par.yaml"), "--backend", "torch",
                        "--out", str(tmp_path / "par"), "--quiet"], cwd=ROOT, capture_output=True, text=True,
                       timeout=280, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""})
    assert r.returncode == 0, r.stderr[-3000:]
    assert len(list((tmp_path / "tb_par").iterdir())) == 1
    tags = set(events(tmp_path / "tb_par").Tags()["scalars"])
    assert {"step/loss", "epoch/loss", "epoch/val_loss", "test/loss", "weight_norm/d1.weight"} <= tags
    assert not any(t.startswith("grad_norm/") for t in tags)
    d["parallel"] = {}
    d["train"]["tensorboard"] = {"dir": str(tmp_path / "tb_one")}
    fit(from_dict(d), backend="torch", out=tmp_path / "one", progress=False)
    par, one = (json.loads((tmp_path / r / "diagnostics.json").read_text())["epochs"] for r in ("par", "one"))
    for a, b in zip(par, one):
        assert a["grad_norm"] == {} and a["logged_steps"] == 0 and b["logged_steps"] == 5
        for k, v in b["weight_norm"].items():
            assert a["weight_norm"][k] == pytest.approx(v, rel=RTOL_TRAJ), k
