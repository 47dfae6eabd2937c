"""Spec limits, in process: each hostile spec is refused with one SpecError naming file and
field, and the work done is bounded (YAML events read, nodes counted, did-you-mean searches),
never timed."""
from __future__ import annotations

import difflib
import json
import re

import pytest
import yaml

from tests.hostile.corpus import TINY_SPEC
from tests.hostile.gen_spec import alias_bomb_text, deep_block_text, layers_text
from xnn.errors import SpecError
from xnn.limits import limit
from xnn.spec import from_dict, load_spec
from xnn.spec import model as spec_model
from xnn.spec.loader import _YamlBuilder, check_tree, loads_spec_text


def _refused(text: str, match: str) -> _YamlBuilder:
    b = _YamlBuilder(text, "s.yaml")
    with pytest.raises(SpecError, match=match):
        b.build()
    return b


def _spec(tmp_path, text: str | bytes, name: str = "s.yaml"):
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode())
    return p


def test_alias_bomb_refused_before_expansion():
    text = alias_bomb_text()
    assert len(text) < 800  # 9 ** 8 values once expanded
    b = _refused(text, r"data\.options\.a\d\[\d\]: more than \d+ values once aliases are expanded")
    assert b.events < 250  # refused while reading (the file has ~200 events): nothing was expanded
    assert b.nodes <= limit("MAX_SPEC_NODES") + 9 ** 7


def test_alias_count_bounded(monkeypatch):
    monkeypatch.setenv("XNN_LIMIT_MAX_YAML_ALIASES", "10")
    b = _refused("x: &s 1\ny: [" + ", ".join(["*s"] * 50) + "]\n", "more than 10 aliases")
    assert b.aliases == 11


def test_node_count_bounded_while_reading(monkeypatch):
    monkeypatch.setenv("XNN_LIMIT_MAX_SPEC_NODES", "5000")
    b = _refused(layers_text(20_000), r"model\[\d+\]\.\w+: more than 5000 values")
    assert b.events <= 2 * 5000 + 10  # (end events are not values)


@pytest.mark.parametrize("text", [deep_block_text(150), "a: " + "[" * 150 + "]" * 150, "a: " + "{b: " * 150 + "1" + "}" * 150])
def test_depth_bounded_while_reading(text):
    b = _refused(text, f"nested deeper than {limit('MAX_NESTING')} levels")
    assert b.events < 2 * limit("MAX_NESTING") + 20


def test_alias_depth_counts_the_expansion():
    levels = "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 60))
    _refused("a0: &a0 [[1]]\n" + levels + "b: [*a59, *a59]\nc: {d: *a59}\n" + "e: " + "[" * 50 + "*a59" + "]" * 50,
             "nested deeper than 100 levels once aliases are expanded")


def test_shared_python_objects_bounded():
    bomb: list = ["x"] * 9
    for _ in range(12):  # 9 ** 13 values, 13 small lists
        bomb = [bomb] * 9
    with pytest.raises(SpecError, match="more than"):
        check_tree(bomb)
    deep: list = []
    for _ in range(10_000):
        deep = [deep]
    with pytest.raises(SpecError, match="nested deeper"):
        load_spec({**yaml.safe_load(TINY_SPEC), "name": deep})


def test_size_checked_before_reading(tmp_path, monkeypatch):
    monkeypatch.setenv("XNN_LIMIT_MAX_SPEC_BYTES", "1000")
    p = _spec(tmp_path, TINY_SPEC + "#" * 2000 + "\n")
    with pytest.raises(SpecError, match=r"s\.yaml: spec larger than 1000 bytes"):
        load_spec(p)


@pytest.mark.parametrize("sub, match", [
    (("units: 8", "units: " + "9" * 5000), r"s\.yaml:5:40: model\[0\]\.units: integer with 5000 digits"),
    (("units: 8", "units: 1e400"), r"model\[0\]\.units: input should be a valid integer"),
    (("units: 8", "units: 1.0e+400"), r"model\[0\]\.units: .*finite"),
    (("units: 8", "units: true"), r"model\[0\]\.units: must be a number, not a boolean \(received true\)"),
    (("lr: 0.01", "lr: .inf"), r"train\.optimizer\.lr: must be a finite number"),
    (("lr: 0.01", "lr: -.inf"), r"train\.optimizer\.lr: must be > 0"),
    (("lr: 0.01", "lr: .nan"), r"train\.optimizer\.lr: must be > 0"),
    (("lr: 0.01", "lr: 1e39"), r"train\.optimizer\.lr: 1e\+39 is beyond the range of train\.dtype float32"),
    (("lr: 0.01", "lr: 1e-50"), r"train\.optimizer\.lr: 1e-50 rounds to 0 in train\.dtype float32"),
    (("lr: 0.01", "lr: true"), r"train\.optimizer\.lr: must be a number, not a boolean"),
    (("units: 8", "units: 1000000000000"), r"model: 8,000,000,000,003 parameters need 29\.1 TiB in float32"),
    (("name: tiny", "name: !!binary aGk="), r"s\.yaml:2:7: name: tag !!binary is not allowed"),
    (("name: tiny", "name: !!set {a, b}"), r"s\.yaml:2:7: name: tag !!set is not allowed"),
    (("name: tiny", "name: !!timestamp 2001-12-14"), r"tag !!timestamp is not allowed"),
    (("name: tiny", "name: [a, b]"), r"name: must be a text"),
    (("units: 3}", "units: 3"), r"s\.yaml:8:6: not valid YAML: did not find expected ',' or '}'"),
    (("units: 8}", "units: 8, units: 9}"), r"s\.yaml:5:5: model\[0\]: duplicate key 'units'"),
    (("source: iris", "source: mnist"), r"data\.source: unknown source 'mnist'; use one of \['digits', 'iris'"),
    (("source: iris", "source: irs"), r"data\.source: unknown source 'irs' \(did you mean 'iris'\?\)"),
    (("source: iris", "source: iris, options: {n_samples: -5}"), r"data\.options\.n_samples: must be an integer >= 1 \(received -5\)"),
    (("source: iris", "source: iris, options: {n_samples: true}"), r"data\.options\.n_samples: must be an integer"),
    (("source: iris", "source: x.csv, options: {x_key: a}"), r"data\.options\.x_key: unknown option for \.csv files"),
])
def test_refused_with_file_and_field(tmp_path, sub, match):
    old, new = sub
    assert old in TINY_SPEC
    p = _spec(tmp_path, TINY_SPEC.replace(old, new, 1))
    with pytest.raises(SpecError, match=match) as e:
        load_spec(p)
    assert str(e.value).startswith(str(p))


def test_float64_spec_takes_what_float32_cannot(tmp_path):
    text = TINY_SPEC.replace("lr: 0.01", "lr: 1e39").replace("seed: 0,", "seed: 0, dtype: float64,")
    assert load_spec(_spec(tmp_path, text)).train.optimizer.lr == 1e39


def test_invalid_utf8_names_line_and_column(tmp_path):
    p = _spec(tmp_path, TINY_SPEC.replace("name: tiny", "name: ti\udcffny").encode("utf-8", "surrogateescape"))
    with pytest.raises(SpecError, match=r"s\.yaml:2:9: not UTF-8 text \(byte 0xff\)"):
        load_spec(p)


@pytest.mark.parametrize("text, match", [
    ('{"xnn": 1,\n "name": NaN}', r"not valid JSON: NaN is not a number"),
    ('{"xnn": 1,\n "name": }', r"s\.json:2:10: not valid JSON"),
    ('{"a": 1, "a": 2}', r"duplicate key 'a'"),
    ('{"a": ' + "9" * 5000 + "}", r"not valid JSON"),
    ('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", r"nested deeper than 100 levels"),
])
def test_json_specs(tmp_path, text, match):
    with pytest.raises(SpecError, match=match):
        load_spec(_spec(tmp_path, text, "s.json"))


def test_set_values_use_the_hardened_reader():
    with pytest.raises(SpecError, match=r"--set name: name: tag !!binary|--set name.*!!binary"):
        load_spec(yaml.safe_load(TINY_SPEC), overrides=["name=!!binary aGk="])


def test_model_bytes_limit_from_environment(monkeypatch):
    d = yaml.safe_load(TINY_SPEC)
    assert from_dict(d).n_params() == 67
    monkeypatch.setenv("XNN_LIMIT_MAX_MODEL_BYTES", "200")
    with pytest.raises(SpecError, match=r"model: 67 parameters need 268 bytes in float32, more than the 200 bytes"):
        from_dict(d)


def test_yaml_reads_as_safe_load_did(tmp_path):
    """The builder gives the values PyYAML's SafeLoader gave (YAML 1.1 scalars, merge keys)."""
    text = ("a: [1, -2, +3, 0x1F, 017, 0b101, 1_000, 1:30, 1.5, .5, -.inf, 1e3, 1.0e+3, yes, No, ON, off, ~, null, '', x]\n"
            "b: &b {x: 1, y: [1, 2]}\nd: &d {x: 3, z: 4}\nc:\n  <<: [*b, *d]\n  y: 2\n"
            "e: !!str 1\nf: !!int '3'\ng: !!float 2\nh: 'a''b'\ni: |\n  lit\n  eral\nj: \"\\u00e9\"\n")
    assert loads_spec_text(text, "s.yaml") == yaml.safe_load(text)
    from pathlib import Path

    for f in sorted(Path(__file__).resolve().parents[2].glob("examples/*.yaml")):
        assert loads_spec_text(f.read_text(), str(f)) == yaml.safe_load(f.read_text()), f


def test_big_graph_validation_is_linear(monkeypatch):
    """20,000 layers validate; a broken one with 5,000 wrong inputs asks difflib at most
    MAX_HINTS times and reports at most MAX_ERRORS lines (+ a count)."""
    spec = load_spec(yaml.safe_load(layers_text(20_000)))
    assert len(spec.nodes) == 20_000 and spec.node_map is spec.node_map
    calls = []
    real = difflib.get_close_matches
    monkeypatch.setattr(difflib, "get_close_matches", lambda *a, **k: calls.append(1) or real(*a, **k))
    d = yaml.safe_load(layers_text(5_000))
    for i, layer in enumerate(d["model"][1:]):
        layer["inputs"] = [f"nowhere{i}"]
    with pytest.raises(SpecError) as e:
        from_dict(d)
    assert len(calls) <= spec_model.MAX_HINTS
    assert len(e.value.messages) == spec_model.MAX_ERRORS + 1
    assert re.fullmatch(r"\.\.\. and \d+ more errors", e.value.messages[-1])


def test_info_counts_huge_models_without_overflow():
    d = yaml.safe_load(TINY_SPEC)
    d["model"][0]["units"] = 2**40
    with pytest.raises(SpecError, match=f"{(2**40) * 4 + 2**40 + 2**40 * 3 + 3:,} parameters"):
        from_dict(d)
    json.dumps(from_dict(yaml.safe_load(TINY_SPEC)).raw)  # the raw spec stays plain JSON
