"""``activation:`` on Dense/Conv/ConvTranspose parses into a following Activation node (Keras's
``Dense(8, activation="relu")``): the same graph, weights and hash as the two plain nodes."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from xnn.errors import SpecError
from xnn.spec import from_dict

SUGAR = {"input": {"shape": [6, 6, 2]}, "model": [
    {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": "same", "activation": "relu", "name": "c1"},
    {"type": "ConvTranspose2D", "filters": 3, "kernel_size": 2, "strides": 2,
     "activation": {"fn": "leaky_relu", "negative_slope": 0.2}},
    {"type": "MaxPool2D", "pool_size": 2},
    {"type": "Add", "inputs": ["c1", "maxpool2d1"]},
    {"type": "Flatten"},
    {"type": "Dense", "units": 5, "activation": "swish"},  # Keras's name of silu
    {"type": "Dense", "units": 3, "activation": "linear"}]}

PLAIN = {"input": {"shape": [6, 6, 2]}, "model": [
    {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": "same", "name": "c1"},
    {"type": "Activation", "fn": "relu", "name": "c1_relu", "inputs": ["c1"]},
    {"type": "ConvTranspose2D", "filters": 3, "kernel_size": 2, "strides": 2},
    {"type": "Activation", "fn": "leaky_relu", "negative_slope": 0.2, "name": "convtranspose2d1_leaky_relu",
     "inputs": ["convtranspose2d1"]},
    {"type": "MaxPool2D", "pool_size": 2},
    {"type": "Add", "inputs": ["c1_relu", "maxpool2d1"]},  # the name means the activated output
    {"type": "Flatten"},
    {"type": "Dense", "units": 5},
    {"type": "Activation", "fn": "silu", "name": "dense1_silu", "inputs": ["dense1"]},
    {"type": "Dense", "units": 3}]}


def test_sugar_is_the_plain_graph():
    s, p = from_dict(SUGAR), from_dict(PLAIN)
    assert s.raw == p.raw and s.hash() == p.hash()
    assert [n.name for n in s.nodes] == [n.name for n in p.nodes]
    assert s.node_map["add1"].inputs == ("c1_relu", "maxpool2d1")
    assert list(s.param_shapes())[:2] == ["c1.weight", "c1.bias"]  # the layer keeps its name and weights
    assert from_dict(s.raw).raw == s.raw  # the run's spec.yaml parses to itself


def test_sugar_trains_like_the_plain_spec():
    import xnn

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 6, 6, 2)), rng.integers(0, 3, 16)
    train = {"dtype": "float64", "epochs": 1, "batch_size": 8}
    a = xnn.fit(from_dict({**SUGAR, "train": train}), "torch", data=(x, y), progress=False)
    b = xnn.fit(from_dict({**PLAIN, "train": train}), "torch", data=(x, y), progress=False)
    for k in b.params:
        np.testing.assert_array_equal(a.params[k], b.params[k], err_msg=k)


@pytest.mark.parametrize("act, message", [
    ("rleu", "model[0].activation: unknown activation 'rleu' (did you mean 'relu'?)"),
    (3, "model[0].activation: must be an activation name or a mapping"),
    ({"fn": "relu", "inputs": ["x"]}, "model[0].activation.inputs: not allowed here"),
    ({"fn": "nope"}, "model[0].activation.fn: must be one of"),
])
def test_bad_activation_names_the_field(act, message):
    with pytest.raises(SpecError) as e:
        from_dict({"input": {"shape": [4]}, "model": [{"type": "Dense", "units": 2, "activation": act}]})
    assert message in str(e.value)


def test_name_clash_and_layers_without_sugar():
    with pytest.raises(SpecError) as e:
        from_dict({"input": {"shape": [4]}, "model": [
            {"type": "Dense", "units": 2, "activation": "relu", "name": "d"},
            {"type": "Activation", "fn": "tanh", "name": "d_relu"}]})
    assert "model[1].name: duplicate or reserved node name (received 'd_relu')" in str(e.value)
    with pytest.raises(SpecError) as e:
        from_dict({"input": {"shape": [4, 3]}, "model": [{"type": "LayerNorm", "activation": "relu"}]})
    assert "LayerNorm has no activation: put an activation layer after it" in str(e.value)


def test_validate_cli_accepts_sugar(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("input: {shape: [4]}\nmodel:\n  - {type: Dense, units: 8, activation: relu}\n"
                 "  - {type: Dense, units: 3}\ndata: {source: iris}\n")
    r = subprocess.run([sys.executable, "-m", "xnn", "validate", str(f)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
