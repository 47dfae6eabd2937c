"""Scale and ChannelShuffle between convolutions, where torch and the ONNX export run them on
channels-first tensors (their single-node registry cases run channels-last): every path of
``xnn parity`` agrees, and xnn's ONNX export imports back into the same layers and weights."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from xnn.init import init_params
from xnn.interop.onnx import export_onnx, import_onnx
from xnn.parity import PATHS, format_table, run_parity, seeded_input
from xnn.reference import forward
from xnn.spec import from_dict

GRAPHS = {
    "image": {"input": {"shape": [6, 5, 4]}, "model": [
        {"type": "Conv2D", "filters": 6, "kernel_size": 3, "padding": "same"},
        {"type": "ChannelShuffle", "groups": 3},
        {"type": "Scale", "shape": [6, 5, 1]},
        {"type": "Conv2D", "filters": 4, "kernel_size": 1},
        {"type": "Scale"},
        {"type": "Activation", "fn": "relu"},  # (a Scale right after a Scale imports folded into it)
        {"type": "Scale", "shape": [1], "use_bias": False},
        {"type": "GlobalAvgPool2D"},
        {"type": "Dense", "units": 3}]},
    "signal": {"input": {"shape": [7, 4]}, "model": [
        {"type": "Conv1D", "filters": 6, "kernel_size": 3, "padding": "same"},
        {"type": "ChannelShuffle", "groups": 2},
        {"type": "Scale", "shape": [7, 1]},
        {"type": "Conv1D", "filters": 4, "kernel_size": 1},
        {"type": "Flatten"},
        {"type": "Dense", "units": 2}]},
}


def _spec(name):
    return from_dict({**GRAPHS[name], "train": {"loss": "mse", "metrics": []}})


def _params(spec):
    """Seeded weights with Scale parameters away from their ones/zeros initialisation."""
    p = init_params(spec, seed=2)
    rng = np.random.default_rng(5)
    kinds = {n.name: n.kind for n in spec.nodes}
    for k in p:
        if kinds[k.split(".")[0]] == "Scale":
            p[k] = rng.uniform(0.5, 1.5, p[k].shape) if k.endswith("weight") else rng.normal(size=p[k].shape)
    return p


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_every_path_agrees(name):
    spec = _spec(name)
    paths = [p for p in PATHS if p != "octave" or shutil.which("octave-cli")]
    rep = run_parity(spec, _params(spec), paths=paths, dtype="float64", n=3)
    assert rep.ok, format_table(rep)


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_onnx_export_imports_back(name, tmp_path):
    spec = _spec(name)
    params = _params(spec)
    sd, back = import_onnx(export_onnx(spec, params, tmp_path / "m.onnx"))
    spec2 = from_dict(sd)
    assert [n.kind for n in spec2.nodes] == [n.kind for n in spec.nodes]
    new = [n.layer.fields() for n in spec.nodes if n.kind in ("Scale", "ChannelShuffle")]
    assert [n.layer.fields() for n in spec2.nodes if n.kind in ("Scale", "ChannelShuffle")] == new
    f32 = {k: v.astype(np.float32).astype(np.float64) for k, v in params.items()}
    assert sorted(back) == sorted(f32)
    for k, v in f32.items():
        np.testing.assert_array_equal(back[k], v, err_msg=k)
    x = seeded_input(spec, 3)
    np.testing.assert_allclose(forward(spec2, back, x), forward(spec, f32, x), rtol=1e-12, atol=1e-12)
