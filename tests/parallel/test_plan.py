"""Framework-neutral validation, stage balancing and sharding (no processes)."""
from __future__ import annotations

import numpy as np
import pytest

import xnn
from xnn.parallel import balance_stages, check_data_size, shard, valid_cuts

from .helpers import mlp_spec


def _err(par: dict, **train) -> str:
    d = mlp_spec(batchnorm=False, **par)
    d["train"].update(train)
    with pytest.raises(xnn.SpecError) as e:
        xnn.from_dict(d)
    return str(e.value)


def test_stage_list_must_cover_the_graph():
    assert "do not cover the graph" in _err({"mode": "model", "stages": [["d1", "a1"], ["d2"]]})
    assert "graph order" in _err({"mode": "model", "stages": [["d1", "a1"], ["d3", "d2", "a2"]]})
    assert "no node named" in _err({"mode": "model", "stages": [["d1", "zz"], ["a1", "d2", "a2", "d3"]]})


def test_async_needs_data_mode_and_workers_fit_batch():
    assert "needs mode: data" in _err({"mode": "model", "sync": False, "stages": 2})
    assert "batch_size >= 64" in _err({"mode": "data", "workers": 64})
    assert "accumulate" in _err({"mode": "data", "workers": 2, "sync": False, "accumulate": 2})


def test_async_batchnorm_rejected():
    d = mlp_spec(batchnorm=True, mode="data", workers=2, sync=False)
    with pytest.raises(xnn.SpecError, match="BatchNorm"):
        xnn.from_dict(d)


def test_more_async_workers_than_batches():
    s = xnn.from_dict(mlp_spec(batchnorm=False, mode="data", workers=4, sync=False))
    assert check_data_size(s, 40)  # 3 batches of 16 for 4 workers
    assert not check_data_size(s, 64)


def test_balance_by_parameter_count_and_single_tensor_cuts():
    s = xnn.from_dict(mlp_spec(batchnorm=False))
    assert valid_cuts(s) == [0, 1, 2, 3]
    # d1 144 params, d2 136, d3 27: the best 2-split puts d1 alone against d2 + d3
    assert balance_stages(s, 2) == [["d1", "a1"], ["d2", "a2", "d3"]]
    branch = {"input": {"shape": [4]}, "model": [
        {"type": "Dense", "units": 4, "name": "a"}, {"type": "Dense", "units": 4, "name": "b", "inputs": ["input"]},
        {"type": "Add", "inputs": ["a", "b"], "name": "s"}, {"type": "Dense", "units": 2, "name": "o"}]}
    sb = xnn.from_dict(branch)
    assert valid_cuts(sb) == [2]  # after a, both input and a cross: not a pipeline cut
    with pytest.raises(ValueError):
        balance_stages(sb, 3)


def test_shards_concatenate_to_the_batch():
    x, y = np.arange(14).reshape(7, 2), np.arange(7)
    parts = [shard(x, y, r, 3) for r in range(3)]
    assert [len(p[0]) for p in parts] == [3, 2, 2]
    np.testing.assert_array_equal(np.concatenate([p[0] for p in parts]), x)
