"""The data-section rules xnn validate applies (xnn/spec/datacheck.py) stay in step with what
xnn.data's sources accept: every built-in has rules, with exactly the options it takes."""
from __future__ import annotations

import ast
import re

import pytest

from xnn.data.sources import BUILTIN, SOURCES
from xnn.errors import DataError
from xnn.spec.datacheck import _BUILTIN_OPTIONS, check_data


@pytest.mark.parametrize("name", BUILTIN)
def test_rules_name_the_options_each_source_takes(name):
    # every source checks its option names before loading anything: an unknown one lists them
    with pytest.raises(DataError) as e:
        SOURCES[name]({"__probe__": 1}, 4, 3, 0)
    known = ast.literal_eval(re.search(r"known: (\[.*?\])", str(e.value)).group(1))
    assert set(_BUILTIN_OPTIONS[name]) == set(known)


@pytest.mark.parametrize("name", BUILTIN)
def test_negative_and_boolean_values_refused(name):
    for key, (kind, lo) in _BUILTIN_OPTIONS[name].items():
        for bad in (lo - 1, True, "3", float("inf")):
            errors = check_data(name, {key: bad})
            assert errors and errors[0].startswith(f"data.options.{key}: must be"), (key, bad, errors)
        assert check_data(name, {key: int(lo) + 4 if key != "min_length" else 2}) == []


def test_sources_and_files():
    assert check_data("digits", {}) == []
    assert check_data("data/x.npz", {"x_key": "x"}) == []
    assert "did you mean 'digits'" in check_data("digit", {})[0]
    assert "x_key: unknown option for .csv files" in check_data("a.csv", {"x_key": "x"})[0]
    assert check_data("synthetic_sequence", {"min_length": 9, "length": 5})[0].startswith("data.options.min_length")
