"""xnn's LSTM keeps PyTorch's two biases (``bias_ih_l{k}{s}``, ``bias_hh_l{k}{s}``); weights
written before that (one ``bias_l{k}{s}``, the sum) still load: read as ``bias_ih`` with
``bias_hh = 0`` (the same function), with a warning naming the file and node."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import yaml

from xnn.errors import FormatError
from xnn.init import init_params
from xnn.reference import forward
from xnn.spec import from_dict
from xnn.weights import check_params, load_weights, save_weights

SPEC = {"input": {"shape": [5, 3]},
        "model": [{"type": "LSTM", "units": 4, "num_layers": 2, "bidirectional": True, "name": "rnn"},
                  {"type": "GlobalAvgPool1D"}, {"type": "Dense", "units": 2, "name": "fc"}],
        "train": {"dtype": "float64"}}


def _legacy(params: dict) -> dict:
    """The single-bias layout: ``bias_l*`` = bias_ih + bias_hh."""
    out = {}
    for k, v in params.items():
        if ".bias_ih_l" in k:
            out[k.replace(".bias_ih_l", ".bias_l")] = v + params[k.replace(".bias_ih_l", ".bias_hh_l")]
        elif ".bias_hh_l" not in k:
            out[k] = v
    return out


def test_params_are_pytorchs_two_biases():
    spec = from_dict(SPEC)
    names = set(spec.param_shapes())
    for k in range(2):
        for s in ("", "_reverse"):
            assert {f"rnn.bias_ih_l{k}{s}", f"rnn.bias_hh_l{k}{s}"} <= names
            assert f"rnn.bias_l{k}{s}" not in names


def test_legacy_weights_file_loads_with_a_note(tmp_path):
    spec = from_dict(SPEC)
    params = init_params(spec, seed=1)
    old = _legacy(params)
    save_weights(tmp_path / "w.safetensors", old)
    with pytest.warns(UserWarning, match=r"w.safetensors: LSTM node 'rnn': 4 single bias\(es\) bias_l\*"):
        back = load_weights(tmp_path / "w.safetensors", spec)
    assert set(back) == set(params)
    for key in ("l0", "l0_reverse", "l1", "l1_reverse"):
        np.testing.assert_array_equal(back[f"rnn.bias_ih_{key}"], old[f"rnn.bias_{key}"])
        assert not back[f"rnn.bias_hh_{key}"].any()
    x = np.random.default_rng(0).normal(size=(3, 5, 3))
    np.testing.assert_allclose(forward(spec, back, x), forward(spec, params, x), rtol=1e-13, atol=1e-14)


def test_legacy_names_without_the_spec_say_how_to_load(tmp_path):
    spec = from_dict(SPEC)
    old = _legacy(init_params(spec, seed=1))
    with pytest.raises(FormatError) as e:
        check_params(old, spec)
    assert any("rnn.bias_l0: not a parameter of this spec (an LSTM bias of xnn's single-bias layout" in m
               for m in e.value.messages)


def test_legacy_run_folder_predicts(tmp_path):
    """A run folder written before the change (spec.yaml + weights with bias_l*) predicts the same."""
    spec = from_dict(SPEC)
    params = init_params(spec, seed=3)
    run = tmp_path / "R"
    run.mkdir()
    (run / "spec.yaml").write_text(yaml.safe_dump(spec.raw))
    save_weights(run / "weights.safetensors", _legacy(params))
    x = np.random.default_rng(1).normal(size=(4, 5, 3))
    np.savez(tmp_path / "x.npz", x=x)
    o = subprocess.run([sys.executable, "-m", "xnn", "predict", "R", "--data", "x.npz", "--out", "p.npz",
                        "--backend", "torch"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert o.returncode == 0, o.stderr[-2000:]
    assert "single bias(es)" in o.stderr
    got = np.load(tmp_path / "p.npz")["outputs"]
    np.testing.assert_allclose(got, forward(spec, params, x), rtol=1e-10, atol=1e-10)
