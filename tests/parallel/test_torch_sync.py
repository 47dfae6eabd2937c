"""Torch DDP (gloo, 2 processes) against one process on the whole batch."""
from __future__ import annotations

import pytest

from .helpers import assert_params_close, launch_torch, load_params, mlp_spec, torch_reference, worker_cmd, write_spec

pytestmark = pytest.mark.timeout(180)


@pytest.mark.parametrize("bn,accumulate", [(True, 1), (False, 2)], ids=["syncbn", "accumulate2"])
def test_ddp_two_workers_equal_one_process(tmp_path, bn, accumulate):
    d = mlp_spec(batchnorm=bn, mode="data", workers=2, accumulate=accumulate, sync_batchnorm=True, timeout_s=30)
    spec = write_spec(tmp_path, d)
    res = launch_torch(2, worker_cmd("torch", spec, tmp_path / "run", "--max-steps", "5"))
    assert res.returncode == 0, res.message
    got = load_params(tmp_path / "run" / "weights.safetensors")
    assert_params_close(got, torch_reference(d, 5))


def test_local_batchnorm_statistics_differ(tmp_path):
    """Control: without sync_batchnorm each rank normalises by its half batch, so the weights
    leave the single-process ones (the equality above is not vacuous)."""
    import numpy as np

    d = mlp_spec(batchnorm=True, mode="data", workers=2, sync_batchnorm=False, timeout_s=30)
    spec = write_spec(tmp_path, d)
    res = launch_torch(2, worker_cmd("torch", spec, tmp_path / "run", "--max-steps", "5"))
    assert res.returncode == 0, res.message
    got, ref = load_params(tmp_path / "run" / "weights.safetensors"), torch_reference(d, 5)
    assert max(float(np.abs(got[k] - ref[k]).max()) for k in ref) > 1e-6


def test_cli_refuses_more_async_workers_than_batches(tmp_path):
    import os
    import subprocess
    import sys

    from .helpers import ROOT, env_base

    d = mlp_spec(batchnorm=False, mode="data", workers=12, sync=False)  # 132 train samples / 16 = 9 batches
    spec = write_spec(tmp_path, d)
    r = subprocess.run([sys.executable, "-m", "xnn", "train", str(spec), "--out", str(tmp_path / "run")], cwd=ROOT,
                       env={**os.environ, **env_base()}, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2
    assert "12 asynchronous workers but only 9 batches" in r.stderr
