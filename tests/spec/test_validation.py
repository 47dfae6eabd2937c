"""Spec validation: every error at once, with its path and the received value."""
import subprocess
import sys

import pytest

from xnn.errors import SpecError
from xnn.spec import apply_overrides, from_dict, load_spec

GOOD = {
    "input": {"shape": [8, 8, 1]},
    "model": [
        {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same"},
        "relu",
        {"type": "Dense", "units": 10},
    ],
}


def errors_of(d):
    with pytest.raises(SpecError) as e:
        from_dict(d)
    return e.value.messages


def test_good_spec_resolves_names_and_shapes():
    s = from_dict(GOOD)
    assert [n.name for n in s.nodes] == ["conv2d1", "activation1", "dense1"]
    assert s.output.out_shape == (8, 8, 10)
    assert s.param_shapes()["conv2d1.weight"].shape == (4, 1, 3, 3)
    assert s.raw["xnn"] == 1


def test_all_errors_at_once_with_paths_and_received_values():
    d = {
        "input": {"shape": [8, 8, 1]},
        "model": [
            {"type": "Dense", "units": -4},
            {"type": "Conv2D", "filters": 0, "kernel_size": 3},
            {"type": "Dense", "unitz": 3},
        ],
        "train": {"epochs": 0},
    }
    msgs = errors_of(d)
    text = "\n".join(msgs)
    assert "model[0].units: must be > 0 (received -4)" in text
    assert "model[1].filters: must be > 0 (received 0)" in text
    assert "model[2].unitz: unknown key (did you mean 'units'?)" in text
    assert "train.epochs: must be > 0 (received 0)" in text
    assert len(msgs) >= 4


def test_unknown_layer_type_and_top_key_hints():
    msgs = errors_of({"input": {"shape": [4]}, "model": [{"type": "Dens", "units": 2}], "trian": {}})
    text = "\n".join(msgs)
    assert "model[0].type: unknown layer type (did you mean 'Dense'?)" in text
    assert "trian: unknown key (did you mean 'train'?)" in text


def test_shape_mismatch_found_before_any_framework():
    msgs = errors_of({"input": {"shape": [4]}, "model": [{"type": "Conv2D", "filters": 2, "kernel_size": 3}]})
    assert msgs[0].startswith("model[0]: Conv2D needs a rank-3 per-sample input")
    msgs = errors_of({"input": {"shape": [5, 5, 2]}, "model": [{"type": "Conv2D", "filters": 2, "kernel_size": 7}]})
    assert "model[0].kernel_size:" in msgs[0]


def test_graph_inputs_must_exist_and_come_first():
    msgs = errors_of({"input": {"shape": [4]}, "model": [
        {"type": "Dense", "units": 2, "name": "a", "inputs": ["b"]},
        {"type": "Dense", "units": 2, "name": "b"}]})
    assert "model[0].inputs: no earlier node named 'b' (it is defined later" in msgs[0]


def test_dangling_node_is_an_error():
    msgs = errors_of({"input": {"shape": [4]}, "model": [
        {"type": "Dense", "units": 2, "name": "a"},
        {"type": "Dense", "units": 3, "name": "b", "inputs": ["input"]}]})
    assert "node 'a' is not used" in msgs[0]


def test_bad_node_names():
    msgs = errors_of({"input": {"shape": [4]}, "model": [{"type": "Dense", "units": 2, "name": "a.b"}]})
    assert msgs[0].startswith("model[0].name:")


def test_overrides_set_any_dotted_path():
    d = apply_overrides(GOOD, ["train.epochs=3", "model[2].units=7", "model.0.filters=5"])
    s = from_dict(d)
    assert s.train.epochs == 3 and s.output.out_shape == (8, 8, 7)
    assert s.nodes[0].layer.filters == 5
    with pytest.raises(SpecError, match="no such place"):
        apply_overrides(GOOD, ["model[9].units=3"])


def test_files_yaml_json_and_bad_files(tmp_path):
    import json

    import yaml

    (tmp_path / "s.yaml").write_text(yaml.safe_dump(GOOD))
    (tmp_path / "s.json").write_text(json.dumps(GOOD))
    assert load_spec(tmp_path / "s.yaml").hash() == load_spec(tmp_path / "s.json").hash()
    (tmp_path / "bad.yaml").write_text("input: [unclosed\n")
    with pytest.raises(SpecError, match=r"bad.yaml:2:1: not valid YAML"):  # line:column of the problem
        load_spec(tmp_path / "bad.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(SpecError, match="top level must be a mapping"):
        load_spec(tmp_path / "list.yaml")
    with pytest.raises(SpecError, match="no such file"):
        load_spec(tmp_path / "missing.yaml")


def test_yaml_tags_cannot_run_code(tmp_path):
    (tmp_path / "evil.yaml").write_text("input: !!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(SpecError, match=r"evil.yaml:1:8: input: tag !!python/object/apply:os.system is not allowed"):
        load_spec(tmp_path / "evil.yaml")


def test_spec_roundtrip_through_raw():
    s = from_dict(GOOD)
    s2 = from_dict(s.to_dict())
    assert s2.raw == s.raw and s2.hash() == s.hash()


def test_wrong_spec_version():
    msgs = errors_of({**GOOD, "xnn": 99})
    assert msgs[0] == "xnn: spec format version must be 1 (received 99)"


def test_import_xnn_loads_no_framework():
    code = ("import sys, xnn, xnn.spec, xnn.parity, xnn.cli; from xnn.spec import layers; layers(); "
            "bad = [m for m in ('torch', 'tensorflow', 'keras', 'onnx') if m in sys.modules]; "
            "print(bad); sys.exit(1 if bad else 0)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_failing_node_does_not_cascade_into_false_errors():
    msgs = errors_of({"input": {"shape": [4]}, "model": [
        {"type": "Conv2D", "filters": 2, "kernel_size": 3, "name": "c"},
        {"type": "Dense", "units": 2, "name": "d", "inputs": ["c"]},
        {"type": "Dense", "units": 2, "name": "e"}]})
    assert len(msgs) == 1 and msgs[0].startswith("model[0]: Conv2D needs")


def test_freezing_a_composite_freezes_all_its_parts():
    from xnn.train.optim import frozen_nodes

    from pathlib import Path

    ex = Path(__file__).resolve().parents[2] / "examples" / "tiny_transformer.yaml"
    s = load_spec(ex, ["train.frozen=[block1]"])
    parts = [n.name for n in s.nodes if n.origin == "block1"]
    assert len(parts) > 3 and "block1" in parts
    assert set(parts) <= frozen_nodes(s)
    assert not any(n.name in frozen_nodes(s) for n in s.nodes if n.origin is None and n.name != "block1")


def test_a_mask_must_come_from_sequence_mask():
    base = {"input": {"shape": [6, 3]}, "model": [
        {"type": "Dense", "units": 1, "name": "d"},
        {"type": "Reshape", "target_shape": [6], "name": "fake_mask"},
        {"type": "LSTM", "units": 4, "name": "rnn", "inputs": ["input", "fake_mask"], "output": "last"},
        {"type": "Dense", "units": 2, "name": "out"}]}
    msgs = errors_of(base)
    assert msgs == ["model: node 'rnn': its mask input must come from a SequenceMask node (received 'fake_mask')"]
    ok = {"input": {"shape": [6, 3]}, "model": [
        {"type": "SequenceMask", "name": "m"},
        {"type": "LSTM", "units": 4, "name": "rnn", "inputs": ["input", "m"], "output": "last"},
        {"type": "Dense", "units": 2, "name": "out"}]}
    from_dict(ok)


def test_a_broken_node_does_not_hide_later_ones():
    d = {
        "input": {"shape": [10, 10, 3]},
        "model": [
            {"type": "Conv2D", "name": "c1", "filters": 4, "kernel_size": 3, "groups": 2},  # shape error
            {"type": "Dense", "name": "d1", "units": 5, "colour": 1},  # unknown key: a stand-in
            {"type": "MaxPool2D", "name": "p1", "pool_size": 20},  # shape error, output unknown
            {"type": "Dense", "name": "d2", "units": 3},  # fed by an unknown shape: not checked
            {"type": "Dense", "name": "d3", "units": -1},  # field error found anyway
        ],
    }
    msgs = errors_of(d)
    assert len(msgs) == 4, msgs
    text = "\n".join(msgs)
    assert "model[0].groups: input channels 3 not divisible by groups 2 (input shapes [[10, 10, 3]]); node c1 (Conv2D)" in text
    assert "model[1].colour: unknown key; node d1 (Dense)" in text
    # c1's fallback (8, 8, 4) and d1's stand-in (8, 8, 5) reach the pool
    assert "model[2].pool_size: pool larger than the input" in text and "[[8, 8, 5]]); node p1 (MaxPool2D)" in text
    assert "model[4].units: must be > 0 (received -1); node d3 (Dense)" in text


def test_a_node_whose_output_is_unknown_hides_only_its_dependants():
    d = {"input": {"shape": [4]}, "model": [
        {"type": "Dense", "name": "a", "units": 0},  # units decide the output: unknown
        {"type": "Dense", "name": "b", "units": 3},
        {"type": "Dense", "name": "c", "units": 2, "inputs": ["input", "a"]},
    ]}
    msgs = errors_of(d)
    assert msgs[0] == "model[0].units: must be > 0 (received 0); node a (Dense)"
    assert any(m.startswith("model[2].inputs: Dense takes 1 inputs (received 2); node c (Dense)") for m in msgs)
    assert not any("model[1]" in m for m in msgs)


def test_composite_parts_name_their_composite():
    d = {"input": {"shape": [6, 8]}, "model": [
        {"type": "TransformerEncoderBlock", "name": "blk", "num_heads": 3, "mlp_dim": 8}]}
    text = "\n".join(errors_of(d))
    assert "node blk" in text


@pytest.mark.parametrize("patch, expected", [
    ({"train": {"optimizer": {"type": "adam", "learning_rate": 0.1}}}, "train.optimizer.learning_rate: unknown key (xnn calls it 'lr')"),
    ({"train": {"loss": "categorical_crossentropy"}}, "(xnn calls it 'cross_entropy')"),
    ({"train": {"loss": "sparse_categorical_crossentropy"}}, "(xnn calls it 'cross_entropy')"),
    ({"train": {"loss": {"type": "mean_squared_error"}}}, "(xnn calls it 'mse')"),
    ({"model": [{"type": "BatchNorm", "activation": "relu"}]},
     "model[0].activation: unknown key (BatchNorm has no activation: put an activation layer after it, e.g. '- relu'"),
    ({"model": [{"type": "Conv2D", "filters": 3, "kernel_size": 1, "activation": "rleu"}]},
     "model[0].activation: unknown activation 'rleu' (did you mean 'relu'?)"),
    ({"model": [{"type": "Linear", "out_features": 3}]}, "model[0].type: unknown layer type (xnn calls it 'Dense', with units: out_features)"),
    ({"model": [{"type": "Dense", "out_features": 3}]}, "model[0].out_features: unknown key (xnn calls it 'units')"),
    ({"model": [{"type": "Dense", "units": 3, "in_features": 4}]},
     "model[0].in_features: unknown key (Dense takes its input size from the node before it: leave it out)"),
])
def test_keras_and_pytorch_spellings_get_hints(patch, expected):
    d = {"input": {"shape": [4, 4, 2]}, "model": [{"type": "Dense", "units": 3}], **patch}
    text = "\n".join(errors_of(d))
    assert expected in text
    assert "dilation" not in text
