"""Asynchronous SGD: torch parameter server (1 server + 2 workers) on the digits CNN."""
from __future__ import annotations

import json

import pytest

from .helpers import digits_cnn, launch_tf_ps, launch_torch, worker_cmd, write_spec

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]


def test_torch_async_digits_accuracy_and_staleness(tmp_path):
    d = digits_cnn(mode="data", workers=2, sync=False, max_staleness=2, timeout_s=60)
    spec = write_spec(tmp_path, d)
    res = launch_torch(3, worker_cmd("torch", spec, tmp_path / "run"), timeout_s=240)
    assert res.returncode == 0, res.message
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert m["test"]["accuracy"] >= 0.9, m["test"]
    st = m["staleness"]
    assert st["max_staleness_observed"] <= 2
    assert st["updates"] == m["steps"] > 0


def test_keras_async_digits_accuracy_and_staleness(tmp_path):
    d = digits_cnn(mode="data", workers=2, sync=False, max_staleness=2, timeout_s=60)
    spec = write_spec(tmp_path, d)
    res = launch_tf_ps(worker_cmd("keras", spec, tmp_path / "run"), workers=2, timeout_s=280)
    assert res.returncode == 0, res.message
    m = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert m["test"]["accuracy"] >= 0.9, m["test"]
    st = m["staleness"]
    # windows of bound + 1 closures: an update can see at most `bound` others land first
    assert st["max_staleness_observed"] <= 2
    assert st["updates"] == m["steps"] > 0
