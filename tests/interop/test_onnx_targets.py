"""Export that opens everywhere: the default opset (17), ``xnn export --target`` with its
pre-flight report, onnx2torch on every example's and zoo model's export vs ONNX Runtime (and on
GroupNorm's decomposition below opset 21), and the round trip
export -> import -> evaluate of a trained run through the real CLI (spec sections and fitted
preprocessing restored from the file's metadata)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest

from xnn.cli import main
from xnn.init import init_params
from xnn.interop.onnx import default_opset, export_onnx, max_opset
from xnn.interop.onnx.export import DEFAULT_OPSET, TARGETS, target_opset
from xnn.spec import load_spec

from ._onnx_util import ort_run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml")) + sorted((ROOT / "examples" / "zoo").glob("*.yaml"))


def test_default_opset_is_17():
    assert DEFAULT_OPSET == 17 and default_opset() == min(17, max_opset())
    assert target_opset("onnx2torch") == 17 and target_opset("tensorflow") == 15
    assert target_opset("onnxruntime") >= 17


def test_target_preflight_refuses_by_layer_before_writing(tmp_path, capsys):
    spec = ROOT / "examples" / "digits_lstm.yaml"
    out = tmp_path / "m.onnx"
    assert main(["export", str(spec), "--onnx", str(out), "--target", "onnx2torch"]) == 2
    err = capsys.readouterr().err
    assert "--target onnx2torch" in err and "cannot read LSTM" in err
    assert not out.exists()
    assert main(["export", str(spec), "--onnx", str(out), "--target", "onnxruntime"]) == 0
    assert onnx.load(str(out)).opset_import[0].version == target_opset("onnxruntime")


def _stand_in_torchvision(root: Path) -> Path:
    """onnx2torch imports torchvision for its NMS and RoIAlign converters only (and the installed
    torchvision, if any, may be broken): a minimal stand-in package, used by neither here."""
    ops = root / "torchvision" / "ops"
    ops.mkdir(parents=True)
    (root / "torchvision" / "__init__.py").write_text("from . import ops  # stand-in: no torchvision here\n")
    (ops / "__init__.py").write_text(
        "def _missing(*a, **k):\n    raise NotImplementedError('torchvision stand-in')\n\n"
        "nms = box_convert = roi_align = _missing\n")
    return root


_ONNX2TORCH = """
import sys, numpy as np, torch
sys.path.insert(0, sys.argv[1])
from onnx2torch import convert
m = convert(sys.argv[2]).eval()
x = np.load(sys.argv[3])
with torch.no_grad():
    y = m(torch.from_numpy(x))
np.save(sys.argv[4], y.numpy())
"""


def _need_onnx2torch():
    import importlib.util

    if importlib.util.find_spec("onnx2torch") is None:  # not imported here: it imports torchvision
        pytest.skip("onnx2torch is not installed (pip install onnx2torch; see tools/install.sh)")


def _onnx2torch_run(path: Path, x: np.ndarray, tmp_path: Path) -> np.ndarray:
    np.save(tmp_path / "x.npy", x)
    tv = tmp_path / "tv"
    if not tv.exists():
        _stand_in_torchvision(tv)
    r = subprocess.run([sys.executable, "-c", _ONNX2TORCH, str(tv), str(path), str(tmp_path / "x.npy"),
                        str(tmp_path / "y.npy")], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    return np.load(tmp_path / "y.npy")


@pytest.mark.parametrize("example", EXAMPLES, ids=[("zoo/" if p.parent.name == "zoo" else "") + p.stem for p in EXAMPLES])
def test_onnx2torch_reads_every_example(example, tmp_path):
    _need_onnx2torch()
    spec = load_spec(example)
    params = init_params(spec)
    path = export_onnx(spec, params, tmp_path / "m.onnx")  # the default opset
    rng = np.random.default_rng(0)
    if spec.input.dtype.startswith("int"):
        x = rng.integers(0, 5, size=(3, *spec.input_shape)).astype(spec.input.dtype)
    else:
        x = rng.normal(size=(3, *spec.input_shape)).astype(np.float32)
    want = ort_run(path, x)
    if any(n.kind in ("LSTM", "GRU") for n in spec.nodes):  # the pre-flight names them instead
        from xnn.interop.onnx.export import target_problems

        assert target_problems(spec, params, "onnx2torch")
        return
    got = _onnx2torch_run(path, x, tmp_path)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * max(1.0, float(np.abs(want).max())))


# GroupNorm below opset 21 is a decomposition (Reshape, Transpose, InstanceNormalization; one group
# per channel: InstanceNormalization alone): at every opset 13..17 ONNX Runtime computes xnn's
# function, and onnx2torch reads the default opset's file. Channels-last after a Conv (the
# normalization reads a channels-first tensor), on a sequence, and one group per channel.
_GN_SPECS = {
    "conv_groups": ([6, 5, 3], [{"type": "Conv2D", "name": "c", "filters": 8, "kernel_size": 3, "padding": "same"},
                                {"type": "GroupNorm", "name": "gn", "groups": 4},
                                {"type": "Activation", "name": "a", "fn": "relu"}]),
    "sequence_groups": ([7, 6], [{"type": "GroupNorm", "name": "gn", "groups": 3}]),
    "instance": ([5, 4, 4], [{"type": "GroupNorm", "name": "gn", "groups": -1}]),
}


@pytest.mark.parametrize("opset", [13, 14, 15, 16, 17])
@pytest.mark.parametrize("which", sorted(_GN_SPECS))
def test_groupnorm_below_21_runs_in_ort_and_onnx2torch(which, opset, tmp_path):
    from xnn.reference import forward
    from xnn.spec import from_dict

    shape, model = _GN_SPECS[which]
    spec = from_dict({"xnn": 1, "name": "gn", "input": {"shape": shape}, "model": model})
    params = init_params(spec, seed=2)
    params = {k: v + 0.3 * np.random.default_rng(5).normal(size=v.shape) for k, v in params.items()}  # non-trivial affine
    path = export_onnx(spec, params, tmp_path / "m.onnx", opset=opset)
    assert "GroupNormalization" not in {n.op_type for n in onnx.load(str(path)).graph.node}
    x = np.random.default_rng(0).normal(size=(2, *shape)).astype(np.float32)
    want = forward(spec, {k: v.astype(np.float32).astype(np.float64) for k, v in params.items()}, x.astype(np.float64))
    tol = {"rtol": 1e-4, "atol": 1e-5 * max(1.0, float(np.abs(want).max()))}
    np.testing.assert_allclose(ort_run(path, x), want, **tol)
    if opset == DEFAULT_OPSET:
        _need_onnx2torch()
        np.testing.assert_allclose(_onnx2torch_run(path, x, tmp_path), want, **tol)


def _evaluate(run, capsys) -> str:
    capsys.readouterr()
    assert main(["evaluate", str(run)]) == 0
    return "\n".join(l for l in capsys.readouterr().out.splitlines() if "loss" in l or "accuracy" in l)


def test_export_import_evaluate_scores_the_same(tmp_path, capsys):
    """iris_mlp standardizes its inputs: the import restores data.x and the fitted statistics."""
    run, f, back = tmp_path / "run", tmp_path / "m.onnx", tmp_path / "R"
    assert main(["train", str(ROOT / "examples" / "iris_mlp.yaml"), "--out", str(run), "--set", "train.epochs=3"]) == 0
    score = _evaluate(run, capsys)
    assert main(["export", str(run), "--onnx", str(f)]) == 0
    assert "xnn_preprocess" in {p.key for p in onnx.load(str(f)).metadata_props}
    assert main(["import", str(f), "--out", str(back)]) == 0
    assert "warning" not in capsys.readouterr().err
    man = json.loads((back / "manifest.json").read_text())
    assert man["preprocess"] == json.loads((run / "manifest.json").read_text())["preprocess"]
    assert load_spec(back).data.x == load_spec(run).data.x
    assert _evaluate(back, capsys) == score


def test_foreign_file_import_says_what_it_defaulted(tmp_path, capsys):
    import torch
    from torch import nn

    m = nn.Sequential(nn.Linear(4, 3)).eval()
    f = tmp_path / "t.onnx"
    torch.onnx.export(m, (torch.randn(2, 4),), str(f), dynamo=False, dynamic_axes={"input": {0: "N"}},
                      input_names=["input"])
    capsys.readouterr()
    assert main(["import", str(f), "--out", str(tmp_path / "R")]) == 0
    warns = [l for l in capsys.readouterr().err.splitlines() if l.startswith("warning:")]
    assert len(warns) == 1 and "defaulted sections" in warns[0] and "data" in warns[0]


def test_targets_listed_in_cli():
    assert set(TARGETS) == {"onnxruntime", "onnx2torch", "matlab", "tensorflow"}
