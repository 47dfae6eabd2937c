"""xnn tune: the search section's checks (no optuna), epoch-by-epoch trials equal to one fit,
pruning, a study continued through its storage, best.yaml, plots, --jobs processes, Keras."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import xnn
from xnn.errors import SpecError

ROOT = Path(__file__).resolve().parents[2]

BASE = {
    "xnn": 1, "name": "iris_tiny", "input": {"shape": [4]},
    "model": [{"type": "Dense", "name": "hidden", "units": 8}, {"type": "tanh", "name": "act"},
              {"type": "Dense", "name": "logits", "units": 3}],
    "train": {"epochs": 3, "batch_size": 16, "loss": "cross_entropy",
              "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9}, "schedule": "cosine", "metrics": ["accuracy"]},
    "data": {"source": "iris", "x": "standardize", "split": {"val": 0.2, "test": 0.2}},
}
SEARCH = {"trials": 5, "pruner": {"type": "median", "startup_trials": 2},
          "train.optimizer.lr": {"loguniform": [0.003, 0.3]},
          "model.hidden.units": {"int": [4, 16], "step": 4},
          "train.optimizer.type": {"choice": ["sgd", "adam"]}}


@pytest.fixture
def cli(capsys):
    """``xnn.cli.main(argv)`` in-process; (exit code, stdout, stderr)."""
    from xnn.cli import main

    def go(*argv):
        code = main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return go


def _spec_dict(search=SEARCH, **over):
    d = copy.deepcopy(BASE)
    d.update(over)
    d["search"] = copy.deepcopy(search)
    return d


def _errors(search, **over) -> list[str]:
    with pytest.raises(SpecError) as e:
        xnn.load_spec(_spec_dict(search, **over))
    return e.value.messages


# ------------------------------------------------------------------------------ validation (no optuna)
def test_search_section_is_checked_one_line_per_problem():
    msgs = _errors({
        "train.optimizer.lrr": {"loguniform": [1e-3, 0.3]},      # unknown field
        "model[7].units": {"int": [4, 32]},                       # no such node
        "model.hidn.units": {"int": [2, 4]},                      # no node of that name
        "model.hidden.units": {"int": [16, 4]},                   # inverted
        "train.optimizer.lr": {"loguniform": [0, 1]},             # log scale needs lo > 0
        "model[1].fn": {"choice": []},                            # empty choice
        "train.batch_size": {"int": [0, 8]},                      # the spec is invalid at a bound
        "train.optimizer.momentum": {"uniform": [0.5, 0.9], "lg": True},
        "trails": 3, "metric": "val_acc"})
    assert msgs == [
        "search.model.hidden.units.int: inverted bounds: lo 16 > hi 4",
        "search.train.optimizer.lr.loguniform: lo must be > 0 on a log scale (received 0)",
        "search.model[1].fn.choice: empty: list at least one value",
        ("search.train.optimizer.momentum.lg: unknown key (did you mean 'log'?); a distribution has one of "
        "['uniform', 'loguniform', 'int', 'choice'] (and step, log)"),
        ("search.trails: unknown option (did you mean 'trials'?); options are ['trials', 'metric', 'direction', "
        "'sampler', 'pruner', 'seed'], any other key is a dotted spec path such as train.optimizer.lr mapped to a "
        "distribution"),
        ("search.metric: must be one of ['val_loss', 'loss', 'val_accuracy', 'accuracy'] (the loss or a "
        "train.metrics entry) (did you mean 'val_accuracy'?) (received 'val_acc')"),
        "search.train.optimizer.lrr: no such field in the spec (train.optimizer.lrr: unknown key (did you mean 'lr'?))",
        "search.model[7].units: no such place in the spec (model has 3 entries, model[0] to model[2])",
        "search.model.hidn.units: no node named 'hidn' (did you mean 'hidden'?)",
        "search.train.batch_size: the spec is invalid at the lower bound 0: train.batch_size: must be > 0 (received 0)",
    ]


def test_search_checks_choices_steps_and_the_rest_of_the_spec_at_once():
    msgs = _errors({"model[1].type": {"choice": ["relu", "Dense"]},  # Dense needs units
                    "model.hidden.units": {"int": [4, 8], "step": 0.5},
                    "train.optimizer.lr": {"uniform": [0.1, 0.2], "log": True}},
                   train={**BASE["train"], "epochs": 0})
    assert msgs == ["train.epochs: must be > 0 (received 0)",
                    "search.model.hidden.units.step: must be a positive integer (received 0.5)",
                    "search.train.optimizer.lr.log: only for int ranges (use loguniform for floats)"]
    msgs = _errors({"model[1].type": {"choice": ["relu", "Dense"]}})
    assert msgs == [("search.model[1].type: the spec is invalid at the choice Dense: model[1].units: required; "
                    "node act (Dense)")]
    msgs = _errors({"train.optimizer.lr": {"uniform": [0.1, 0.2]}}, data={"source": "iris", "split": {"val": 0}})
    assert msgs == [("search.metric: val_loss needs a validation split, and data.split.val is 0 (set data.split.val, "
                    "or search on the training loss)")]
    assert _errors({"trials": 3}) == [("search: names no spec path to vary; add e.g. 'train.optimizer.lr: "
                                      "{loguniform: [1e-4, 1e-1]}' (docs/tuning.md)")]
    assert _errors({**SEARCH, "trials": 0})[0].startswith("search.trials: must be > 0")


def test_search_section_kept_in_raw_and_validate_imports_no_optuna(cli, tmp_path):
    spec = xnn.load_spec(_spec_dict())
    assert spec.raw["search"]["model.hidden.units"] == {"int": [4, 16], "step": 4}
    assert spec.raw["search"]["pruner"]["type"] == "median"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(_spec_dict({"train.optimizer.lr": {"uniform": [0.5, 0.1]}})))
    code, _out, err = cli("validate", bad)
    assert (code, err.strip().splitlines()) == (
        2, [f"error: {bad}: search.train.optimizer.lr.uniform: inverted bounds: lo 0.5 > hi 0.1"])
    code = subprocess.run([sys.executable, "-c",
                           ("import sys, xnn; from xnn.cli import main; "
                           f"assert main(['validate', {str(ROOT / 'examples' / 'iris_tune.yaml')!r}]) == 0; "
                           "bad = [m for m in ('optuna', 'torch', 'tensorflow', 'matplotlib') if m in sys.modules]; "
                           "assert not bad, bad")], check=False, capture_output=True, text=True)
    assert code.returncode == 0, code.stderr


def test_type_switch_keeps_written_fields_the_new_type_has():
    from xnn.tune.space import apply_values

    spec = xnn.load_spec(_spec_dict())
    raw = {k: v for k, v in spec.raw.items() if k != "search"}
    user = copy.deepcopy(BASE)
    d = apply_values(raw, {"train.optimizer.type": "adam", "model.hidden.units": 12}, user)
    assert d["train"]["optimizer"] == {"type": "adam", "lr": 0.1}  # momentum is not Adam's: dropped
    assert d["model"][0]["units"] == 12 and d["model"][0]["name"] == "hidden"
    d = apply_values(raw, {"model[1].type": "relu"}, user)
    assert d["model"][1] == {"type": "relu", "name": "act"}
    assert xnn.spec.from_dict(d).nodes[1].layer.fn == "relu"
    assert apply_values(raw, {"train.optimizer.type": "sgd"}, user)["train"]["optimizer"]["momentum"] == 0.9


# ------------------------------------------------------------------------------ trials
def test_epoch_by_epoch_trial_equals_one_fit_and_stops_when_pruned(tmp_path):
    from xnn.data import load
    from xnn.train import fit
    from xnn.tune.study import train_epochs

    d = copy.deepcopy(BASE)
    d["model"].insert(2, {"type": "Dropout", "rate": 0.3})  # RNG state crosses the epoch boundaries
    d["train"].update(dtype="float64", epochs=4, early_stopping={"patience": 10})
    spec = xnn.load_spec(d)
    data = load(spec)
    full = fit(spec, "torch", data=data, out=tmp_path / "full", progress=False)
    res, n, stopped = train_epochs(spec, "torch", data, tmp_path / "steps")
    assert (n, stopped) == (4, None)
    for k in full.params:
        np.testing.assert_array_equal(res.params[k], full.params[k], err_msg=k)
    assert res.history == full.history
    seen = []
    res, n, stopped = train_epochs(spec, "torch", data, tmp_path / "pruned", lambda k, row: seen.append(k) or k == 2)
    assert (n, stopped, seen) == (2, "pruned", [1, 2])
    run = xnn.train.load_run(tmp_path / "pruned")
    assert run[2]["status"] == "finished" and run[0].train.epochs == 2
    assert json.loads((tmp_path / "pruned" / "metrics.json").read_text())["history"] == full.history[:2]


def test_tune_torch_prunes_continues_and_writes_best(tmp_path, cli):
    from xnn.tune import tune

    src = tmp_path / "tiny.yaml"
    src.write_text(yaml.safe_dump(_spec_dict()))
    out = tmp_path / "t"
    res = tune(src, backend="torch", trials=5, out=out, quiet=True, table=False)
    assert [r["trial"] for r in res.rows] == [0, 1, 2, 3, 4]
    states = [r["state"] for r in res.rows]
    assert set(states) <= {"complete", "pruned"} and states.count("complete") >= 1
    for r in res.rows:  # every trial is a normal run folder plus trial.json
        run = out / f"trial_{r['trial']:04d}"
        spec, _params, man = xnn.train.load_run(run)
        assert man["status"] == "finished" and man["kind"] == "train"
        info = json.loads((run / "trial.json").read_text())
        assert info["state"] == r["state"] and info["values"] == r["values"]
        assert spec.nodes[0].out_shape == (info["values"]["model.hidden.units"],)
        assert spec.train.optimizer.type == info["values"]["train.optimizer.type"]
        assert len(info["intermediate"]) == info["epochs_run"] == (3 if r["state"] == "complete" else spec.train.epochs)
        assert (r["state"] == "pruned") == (info["epochs_run"] < 3)
    best = min((r for r in res.rows if r["state"] == "complete"), key=lambda r: r["value"])
    assert res.best["trial"] == best["trial"]
    b = xnn.load_spec(out / "best.yaml")  # runnable: the search section removed, values filled in
    assert "search" not in b.raw and b.train.epochs == 3
    assert b.train.optimizer.lr == pytest.approx(best["values"]["train.optimizer.lr"], rel=0, abs=0)
    assert (out / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    n_complete = states.count("complete")
    assert (out / "importance.png").exists() == (n_complete >= 3)
    # the same study continued from the command line (same --study, same --out): trials 5 and 6 only
    code, text, err = cli("tune", src, "--trials", "7", "--study", out / "study.db", "--out", out)
    assert code == 0, err
    assert "5 trial(s) done; running 2 more" in err
    lines = text.splitlines()
    assert lines[0].split()[:4] == ["trial", "state", "val_loss", "epochs"]
    assert [ln.split()[0] for ln in lines[1:8]] == ["0", "1", "2", "3", "4", "5", "6"]
    assert sum(ln.split()[1] == "*" for ln in lines[1:8]) == 1  # the best trial is marked
    assert (out / "trial_0006" / "trial.json").is_file() and not (out / "trial_0007").exists()
    # a folder of something else, or of another study, is refused
    other = tmp_path / "other"
    other.mkdir()
    (other / "x.txt").write_text("x")
    code, _, err = cli("tune", src, "--out", other)
    assert code != 0 and "is not an xnn tune folder" in err
    code, _, err = cli("tune", src, "--out", out, "--study-name", "another")
    assert code != 0 and "holds the trials of study 'xnn-iris_tiny'" in err


def test_tune_without_a_search_section_and_a_failing_trial(tmp_path, cli):
    plain = tmp_path / "plain.yaml"
    plain.write_text(yaml.safe_dump(BASE))
    code, _, err = cli("tune", plain, "--out", tmp_path / "x")
    assert code == 2 and "search: the spec has no search section" in err
    from xnn.tune import tune

    # each value is valid alone (validate checks them one by one), the combination is not: the trial
    # fails with the spec's error, and the study counts it and goes on
    res = tune(_spec_dict({"train.optimizer.type": {"choice": ["adam"]}, "train.optimizer.momentum": {"choice": [0.5]}}),
               trials=1, out=tmp_path / "f", quiet=True, table=False)
    assert [r["state"] for r in res.rows] == ["fail"]
    assert res.rows[0]["error"].startswith("train.optimizer.momentum: unknown key")
    assert res.best is None and res.best_yaml is None and not (tmp_path / "f" / "best.yaml").exists()
    info = json.loads((tmp_path / "f" / "trial_0000" / "trial.json").read_text())
    assert info["state"] == "failed" and info["error"] == res.rows[0]["error"]


@pytest.mark.slow  # two fresh interpreters import torch
def test_tune_jobs_runs_trials_in_processes(tmp_path):
    from xnn.tune import tune

    s = _spec_dict({**SEARCH, "pruner": "none"})
    s["train"]["epochs"] = 2
    res = tune(s, trials=2, jobs=2, out=tmp_path / "j", quiet=True, table=False)
    assert sorted(r["state"] for r in res.rows) == ["complete", "complete"]
    for i in (0, 1):
        assert json.loads((tmp_path / "j" / f"trial_{i:04d}" / "trial.json").read_text())["state"] == "complete"


def test_tune_keras(tmp_path):
    from xnn.tune import tune

    s = _spec_dict({"train.optimizer.lr": {"loguniform": [0.01, 0.3]}, "pruner": "none", "sampler": "random"})
    s["train"]["epochs"] = 2
    res = tune(s, backend="keras", trials=2, out=tmp_path / "k", quiet=True, table=False)
    assert [r["state"] for r in res.rows] == ["complete", "complete"]
    assert xnn.train.load_run(tmp_path / "k" / "trial_0001")[2]["backend"] == "keras"
    assert "importance: needs at least 2 searched paths" in res.notes[0]
