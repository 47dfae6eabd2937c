"""Torch pipeline (torch.distributed.pipelining, 2 stage processes) against the unsplit model."""
from __future__ import annotations

import pytest

from .helpers import assert_params_close, launch_torch, load_params, mlp_spec, torch_reference, worker_cmd, write_spec

pytestmark = pytest.mark.timeout(180)


@pytest.mark.parametrize("schedule,stages", [("gpipe", 2), ("1f1b", [["d1", "a1"], ["d2", "a2", "d3"]])])
def test_pipeline_equals_unsplit(tmp_path, schedule, stages):
    # 4 microbatches of a batch of 16; 132 train samples: the 9th step is the partial batch of 4,
    # which needs its own stage shapes (1+1+1+1)
    d = mlp_spec(batchnorm=False, mode="model", stages=stages, microbatches=4, schedule=schedule, timeout_s=30)
    spec = write_spec(tmp_path, d)
    res = launch_torch(2, worker_cmd("torch", spec, tmp_path / "run", "--max-steps", "9"))
    assert res.returncode == 0, res.message
    # same weights after 9 SGD+momentum steps: the pipeline's outputs and gradients were the unsplit ones
    assert_params_close(load_params(tmp_path / "run" / "weights.safetensors"), torch_reference(d, 9))


def test_conv_pipeline_cut_between_channels_first_layers(tmp_path):
    from .helpers import conv_spec

    d = conv_spec(mode="model", stages=[["c1", "r1"], ["c2", "f", "o"]], microbatches=3)
    spec = write_spec(tmp_path, d)
    res = launch_torch(2, worker_cmd("torch", spec, tmp_path / "run", "--max-steps", "3"))
    assert res.returncode == 0, res.message
    assert_params_close(load_params(tmp_path / "run" / "weights.safetensors"), torch_reference(d, 3))
