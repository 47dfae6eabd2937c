"""xnn optimize: int8 quantization (dynamic, static QDQ) of a really trained tiny CNN and magnitude
pruning with fine-tuning on both backends; the run's own files are never written. No timing
thresholds: the speed ratio is reported, never asserted."""
from __future__ import annotations

import json

import numpy as np
import pytest

import xnn
from xnn.data import load

CNN = {
    "xnn": 1, "name": "tiny_cnn", "input": {"shape": [8, 8, 1]},
    "model": [{"type": "Conv2D", "filters": 8, "kernel_size": 3, "padding": "same"}, "relu",
              {"type": "MaxPool2D", "pool_size": 2}, "flatten", {"type": "Dense", "units": 32}, "relu",
              {"type": "Dense", "units": 10}],
    "train": {"epochs": 4, "batch_size": 32, "optimizer": {"type": "adam", "lr": 0.01}, "metrics": ["accuracy"]},
    "data": {"source": "digits", "x": "minmax", "split": {"val": 0.1, "test": 0.25}},
}

# Margins of the int8 models against the float32 export on the 450 test digits. int8 rounds each
# weight by at most half a step, max|w|/254 (0.4 % of its tensor's range; per output channel for
# static, per tensor for dynamic), and each activation by half a step of its uint8 range (1/510);
# through this three-layer net the logits move by about 1 % of their spread, so only samples whose
# two best logits are that close can change class: a handful of 450 for a model at ~93 %. 2 points
# of accuracy (9 samples) and 98 % top-1 agreement allow that handful; a broken quantization
# (wrong scales, a lost layout transpose, calibration on other inputs) costs tens of points.
ACC_MARGIN = 0.02
AGREE_MIN = 0.98
LOGIT_SHIFT_MAX = 0.05  # max |z_int8 - z_float| over the test set, as a fraction of the float logits' spread


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    from xnn.train import fit

    d = tmp_path_factory.mktemp("opt") / "cnn"
    res = fit(xnn.load_spec(CNN), "torch", out=d, progress=False)
    assert res.test["accuracy"] > 0.85  # a really trained model, or the comparisons mean nothing
    return d


@pytest.fixture
def cli(capsys):
    from xnn.cli import main

    def go(*argv):
        code = main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return go


def _run_files(d):
    return {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("mode", ["dynamic", "static"])
def test_quantize_writes_a_valid_int8_model_close_to_float(run_dir, cli, tmp_path, mode):
    import onnx

    from xnn.optimize.measure import outputs, session

    before = _run_files(run_dir)
    out = tmp_path / f"q_{mode}.onnx"
    code, text, err = cli("optimize", run_dir, "--quantize", mode, "--calibration", "128", "--out", out,
                          "--repeats", "5", "--json")
    assert code == 0, err
    rep = json.loads(text)
    m = onnx.load(str(out))
    onnx.checker.check_model(m)
    ops = {n.op_type for n in m.graph.node}
    assert ({"QuantizeLinear", "DequantizeLinear"} <= ops) if mode == "static" else ("DynamicQuantizeLinear" in ops)
    props = {p.key: p.value for p in m.metadata_props}
    assert json.loads(props["xnn_quantization"])["mode"] == mode and "xnn_spec" in props
    if mode == "static":
        assert rep["quantization"]["calibration_samples"] == 128
    # ORT runs it; accuracies recomputed here from xnn's own float export, independently of the report
    from xnn.interop.onnx import export_onnx

    spec, params, _ = xnn.train.load_run(run_dir)
    x, y = load(spec).test
    zq = outputs(session(out), x)
    zf = outputs(session(export_onnx(spec, params, tmp_path / "float.onnx")), x)
    acc_q, acc_f = float(np.mean(np.argmax(zq, -1) == y)), float(np.mean(np.argmax(zf, -1) == y))
    assert [acc_f, acc_q] == pytest.approx(rep["metrics"]["accuracy"], abs=1e-12)
    assert abs(acc_q - acc_f) <= ACC_MARGIN
    assert float(np.mean(np.argmax(zq, -1) == np.argmax(zf, -1))) == rep["top1_agreement"] >= AGREE_MIN
    assert float(np.max(np.abs(zq - zf))) <= LOGIT_SHIFT_MAX * float(np.ptp(zf))
    assert rep["file_bytes"][1] < rep["file_bytes"][0]  # int8 weights: a smaller file
    assert rep["timing"]["repeats"] == 5 and all(t > 0 for t in rep["timing"]["median_s"])
    assert _run_files(run_dir) == before  # the run is untouched


def test_quantize_refuses_to_overwrite(run_dir, cli, tmp_path):
    for target in (run_dir / "weights.safetensors", run_dir / "manifest.json", run_dir / "checkpoints" / "x.onnx"):
        code, _, err = cli("optimize", run_dir, "--quantize", "dynamic", "--out", target)
        assert code != 0 and "is one of the run's own files" in err and "never replaced" in err
    out = tmp_path / "exists.onnx"
    out.write_bytes(b"keep")
    code, _, err = cli("optimize", run_dir, "--quantize", "dynamic", "--out", out)
    assert code != 0 and "exists; use --force" in err and out.read_bytes() == b"keep"
    code, _, err = cli("optimize", run_dir, "--prune", "0.5")
    assert code == 2 and "--prune: needs --out NEW_RUN" in err
    code, _, err = cli("optimize", run_dir, "--prune", "0.5", "--out", run_dir, "--force")
    assert code != 0 and "is the run itself" in err
    code, _, err = cli("optimize", run_dir, "--prune", "1.0", "--out", tmp_path / "p")
    assert code == 2 and "--prune: sparsity must be in [0, 1) (received 1.0)" in err and not (tmp_path / "p").exists()


def _prunable(spec, params):
    from xnn.optimize.prune import prunable

    return {k: params[k] for k in prunable(spec)}


def test_prune_global_reaches_the_sparsity_exactly_and_still_predicts(run_dir, cli, tmp_path):
    from xnn.optimize.prune import magnitude_masks, n_pruned

    before = _run_files(run_dir)
    spec, params, _ = xnn.train.load_run(run_dir)
    masks = magnitude_masks(spec, params, 0.5, "global")
    out = tmp_path / "pruned"
    code, text, err = cli("optimize", run_dir, "--prune", "0.5", "--finetune-epochs", "1", "--out", out,
                          "--repeats", "3", "--quiet")
    assert code == 0, err
    assert "gzip-compressed size" in text and "2,244 of 4,488 Dense/conv weights are zero (50.00 %, global)" in text
    nspec, nparams, man = xnn.train.load_run(out)
    w = _prunable(nspec, nparams)
    total = sum(a.size for a in w.values())
    assert sum(int(np.count_nonzero(a == 0)) for a in w.values()) == n_pruned(total, 0.5) == 2244
    for k, a in w.items():  # the zeros are exactly the smallest-|w| entries of the trained run
        np.testing.assert_array_equal(a == 0, masks[k] == 0, err_msg=k)
    assert man["pruning"]["zeros"] == 2244 and man["pruning"]["scope"] == "global" and man["status"] == "finished"
    assert json.loads((out / "pruning.json").read_text())["pruning"]["target_zeros"] == 2244
    # still a working classifier (chance is 0.10) after 50 % of its weights went and one epoch back
    code, text, _ = cli("evaluate", out, "--json")
    assert code == 0 and json.loads(text)["accuracy"] > 0.85
    assert _run_files(run_dir) == before


def test_fine_tuning_without_the_masks_would_refill_the_zeros(run_dir):
    """Why the masks are re-applied: plain fine-tuning moves pruned weights off zero (all but those
    whose gradient is exactly zero, e.g. Dense inputs that are 0 for every digit: the blank border)."""
    from xnn.optimize.prune import apply_masks, magnitude_masks
    from xnn.train import fit

    spec, params, _ = xnn.train.load_run(run_dir)
    masks = magnitude_masks(spec, params, 0.5, "global")
    res = fit(spec.with_overrides({"train.epochs": 1}), "torch", params=apply_masks(params, masks), progress=False)
    zeros = sum(int(np.count_nonzero(res.params[k] == 0)) for k in masks)
    assert zeros < 0.9 * 2244


def test_prune_per_layer_on_keras(run_dir, tmp_path):
    from xnn.optimize.prune import n_pruned, prune_run

    rep = prune_run(run_dir, 0.6, tmp_path / "k", scope="layer", finetune_epochs=1, backend="keras",
                    progress=False, repeats=3)
    nspec, nparams, man = xnn.train.load_run(tmp_path / "k")
    assert man["backend"] == "keras" and man["pruning"]["scope"] == "layer"
    for k, a in _prunable(nspec, nparams).items():
        assert int(np.count_nonzero(a == 0)) == n_pruned(a.size, 0.6), k
    assert rep["metrics"]["accuracy"][1] > 0.8  # chance is 0.10
