"""``xnn export`` / ``xnn import`` verbs on ONNX files (run in-process through ``xnn.cli.main``)."""
from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from xnn.cli import main
from xnn.init import init_params
from xnn.reference import forward
from xnn.spec import from_dict, load_spec
from xnn.weights import load_weights, save_weights

from ._onnx_util import ort_run

SPEC = {"name": "tiny", "input": {"shape": [6, 5, 2]}, "model": [
    {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": "same"}, "relu", {"type": "MaxPool2D"},
    "Flatten", {"type": "Dense", "units": 4}]}


@pytest.fixture()
def spec_file(tmp_path):
    p = tmp_path / "spec.yaml"
    p.write_text(yaml.safe_dump(SPEC))
    return p


def test_export_spec_then_import_roundtrip(spec_file, tmp_path, capsys):
    onnx_path = tmp_path / "m.onnx"
    assert main(["export", str(spec_file), "--onnx", str(onnx_path), "--opset", "17"]) == 0
    assert "opset 17" in capsys.readouterr().out
    spec = load_spec(spec_file)
    params = init_params(spec)
    x = np.random.default_rng(0).normal(size=(3, 6, 5, 2))
    np.testing.assert_allclose(ort_run(onnx_path, x.astype(np.float32)), forward(spec, params, x), atol=1e-5)
    out = tmp_path / "imported"
    assert main(["import", str(onnx_path), "--out", str(out)]) == 0
    spec2 = load_spec(out)
    back = load_weights(out / "weights.safetensors", spec2)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["imported_from"]["format"] == "onnx"
    np.testing.assert_allclose(forward(spec2, back, x), forward(spec, params, x), atol=1e-5)
    # refuses to overwrite without --force (exit 2, nothing changed)
    before = (out / "spec.yaml").read_bytes()
    assert main(["import", str(onnx_path), "--out", str(out)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (out / "spec.yaml").read_bytes() == before
    assert main(["import", str(onnx_path), "--out", str(out), "--force"]) == 0


def test_export_run_dir_uses_its_weights(spec_file, tmp_path):
    spec = load_spec(spec_file)
    run = tmp_path / "run"
    run.mkdir()
    (run / "spec.yaml").write_text(spec.to_yaml())
    params = {k: v + 0.5 for k, v in init_params(spec, seed=9).items()}
    save_weights(run / "weights.safetensors", params)
    onnx_path = tmp_path / "r.onnx"
    assert main(["export", str(run), "--onnx", str(onnx_path)]) == 0
    x = np.random.default_rng(1).normal(size=(2, 6, 5, 2))
    np.testing.assert_allclose(ort_run(onnx_path, x.astype(np.float32)), forward(spec, params, x), atol=1e-4)


def test_import_bad_files_exit_2_and_write_nothing(tmp_path, capsys):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage" * 3)
    out = tmp_path / "out"
    assert main(["import", str(bad), "--out", str(out)]) == 2
    assert str(bad) in capsys.readouterr().err
    assert not out.exists() or not any(out.iterdir())
    other = tmp_path / "m.h5"
    other.write_bytes(b"x")
    assert main(["import", str(other), "--out", str(out)]) == 2


def test_export_errors(spec_file, tmp_path, capsys):
    assert main(["export", str(spec_file)]) == 2
    assert main(["export", str(spec_file), "--onnx", str(tmp_path / "m.onnx"), "--opset", "9"]) == 2
    assert "opset 9" in capsys.readouterr().err
    assert not (tmp_path / "m.onnx").exists()


def test_export_mat_when_available(spec_file, tmp_path, capsys):
    mat = pytest.importorskip("xnn.interop.mat")
    assert mat is not None
    assert main(["export", str(spec_file), "--mat", str(tmp_path / "m.mat")]) == 0
    assert (tmp_path / "m.mat").is_file()
    out = tmp_path / "from_mat"
    assert main(["import", str(tmp_path / "m.mat"), "--out", str(out)]) == 0
    assert from_dict(yaml.safe_load((out / "spec.yaml").read_text())).n_params() == load_spec(spec_file).n_params()
