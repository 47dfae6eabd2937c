"""Property-based fuzzing of spec loading: any text or dict either validates or raises one
SpecError, never another exception. Bounded for CI (a few hundred examples, no deadline)."""
from __future__ import annotations

import copy

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.hostile.corpus import TINY_SPEC
from xnn.errors import SpecError
from xnn.spec import from_dict, load_spec
from xnn.spec.loader import loads_spec_text

BASE = yaml.safe_load(TINY_SPEC)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-2**80, max_value=2**80),
                    st.floats(), st.text(max_size=12), st.sampled_from(["relu", "Dense", "adam", "iris", "-1", "1e400"]))
values = st.recursive(scalars, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                      st.dictionaries(st.text(max_size=8), kids, max_size=4)),
                      max_leaves=20)
# YAML-ish text: pieces of the real spec, YAML syntax and odd characters, shuffled together
pieces = st.sampled_from(TINY_SPEC.split() + ["&a", "*a", "<<:", "!!binary", "!!set", "!!int", "[", "]", "{", "}",
                                              "- ", ": ", "\n  ", "'", '"', "#", "---", "...", "? ", "|", ">", "\t",
                                              ".inf", ".nan", "0x1F", "1:30", "~", "\x00", "\ufeff"])
texts = st.lists(pieces, max_size=60).map(" ".join)


def _loads_or_spec_error(fn, *args) -> None:
    try:
        fn(*args)
    except SpecError:
        pass


@FUZZ
@given(texts)
def test_random_yaml_text_is_a_spec_or_a_spec_error(text):
    def go(t: str) -> None:
        data = loads_spec_text(t, "fuzz.yaml")
        if isinstance(data, dict):
            from_dict(data)

    _loads_or_spec_error(go, text)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_are_a_spec_or_a_spec_error(tmp_path_factory, data):
    p = tmp_path_factory.mktemp("fz") / "spec.yaml"
    p.write_bytes(data)
    _loads_or_spec_error(load_spec, p)


@FUZZ
@given(st.lists(st.sampled_from(["input", "model", "train", "data", "parallel", "name", "xnn", 0, 1, 2,
                                 "units", "lr", "optimizer", "options", "shape", "type", "inputs"]), min_size=1, max_size=4),
       values)
def test_random_value_anywhere_in_a_spec_is_a_spec_or_a_spec_error(path, value):
    d = copy.deepcopy(BASE)
    cur = d
    for key in path[:-1]:  # walk as far as the path goes, then put the value there
        nxt = cur.get(key) if isinstance(cur, dict) else (cur[key] if isinstance(key, int) and key < len(cur) else None)
        if not isinstance(nxt, (dict, list)):
            break
        cur = nxt
    if isinstance(cur, dict):
        cur[path[-1]] = value
    elif isinstance(path[-1], int) and path[-1] < len(cur):
        cur[path[-1]] = value
    _loads_or_spec_error(from_dict, d)


@FUZZ
@given(values)
def test_random_yaml_of_random_values_round_trips_or_refuses(value):
    text = yaml.safe_dump({"name": "x", "junk": value})
    try:
        # the same values PyYAML's SafeLoader builds (repr: NaN equals itself there)
        assert repr(loads_spec_text(text, "v.yaml")["junk"]) == repr(yaml.safe_load(text)["junk"])
    except SpecError:
        pass
