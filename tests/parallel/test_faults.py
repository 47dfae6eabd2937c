"""Faults: a worker that raises or hangs stops the whole job, non-zero, with a message, no orphans;
checkpoints are consistent and a resumed run ends where an uninterrupted one does."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from .helpers import ROOT, checkpoint_names, env_base, fault, launch_torch, load_params, mlp_spec, worker_cmd, write_spec

pytestmark = pytest.mark.timeout(180)


def _no_process_mentions(marker: str) -> bool:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return not any(marker in line and "ps -eo" not in line for line in out.splitlines())


@pytest.mark.parametrize("how", ["fail", "hang"])
def test_failing_worker_stops_the_job(tmp_path, how):
    d = mlp_spec(batchnorm=False, mode="data", workers=2, timeout_s=8)
    spec = write_spec(tmp_path, d)
    res = launch_torch(2, worker_cmd("torch", spec, tmp_path / "run"), timeout_s=120, env=fault(how, 3))
    assert res.returncode != 0
    assert res.returncode != 124, "the collective timeout, not the test's, must end a hung job"
    assert res.failed_rank is not None
    assert _no_process_mentions(str(tmp_path))


def test_resume_after_kill_matches_uninterrupted(tmp_path):
    d = mlp_spec(batchnorm=True, mode="data", workers=2, timeout_s=15)
    spec = write_spec(tmp_path, d)
    full = tmp_path / "full"
    assert launch_torch(2, worker_cmd("torch", spec, full)).returncode == 0
    part = tmp_path / "part"
    # first attempt dies after step 11 (checkpoints every 4 steps and at the epoch end, step 9), the rerun resumes
    first = launch_torch(2, worker_cmd("torch", spec, part, "--checkpoint-steps", "4"), env=fault("fail", 11))
    assert first.returncode != 0
    assert checkpoint_names(part) == ["epoch_0000_b000008", "epoch_0001"]  # the one format, last two kept
    again = launch_torch(2, worker_cmd("torch", spec, part, "--checkpoint-steps", "4"))
    assert again.returncode == 0, again.message
    a, b = load_params(part / "weights.safetensors"), load_params(full / "weights.safetensors")
    for k in b:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-12, atol=1e-12, err_msg=k)
    # the same history as the uninterrupted run, resumed epochs included
    hist = lambda p: json.loads((p / "metrics.json").read_text())["history"]  # noqa: E731
    assert [h["epoch"] for h in hist(part)] == [1, 2]
    for ha, hb in zip(hist(part), hist(full)):
        assert ha.keys() == hb.keys()
        for k in hb:
            assert ha[k] == pytest.approx(hb[k], rel=1e-10), k


def test_cli_train_launches_local_workers(tmp_path):
    d = mlp_spec(batchnorm=True, mode="data", workers=2, timeout_s=20)
    spec = write_spec(tmp_path, d)
    r = subprocess.run([sys.executable, "-m", "xnn", "train", str(spec), "--backend", "torch", "--out", str(tmp_path / "run"),
                        "--quiet"], cwd=ROOT, env={**os.environ, **env_base()}, capture_output=True, text=True, timeout=150)
    assert r.returncode == 0, r.stderr[-2000:]
    assert (tmp_path / "run" / "weights.safetensors").exists()


def _torchrun(*args: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", *args]


def test_torchrun_restarts_killed_worker_and_matches_uninterrupted(tmp_path):
    from xnn.parallel.launch import free_port, run_local

    d = mlp_spec(batchnorm=True, mode="data", workers=2, timeout_s=15)
    spec = write_spec(tmp_path, d)
    full = tmp_path / "full"
    assert launch_torch(2, worker_cmd("torch", spec, full)).returncode == 0
    part = tmp_path / "part"
    cmd = _torchrun("--nnodes", "1", "--nproc-per-node", "2", "--max-restarts", "2", "--rdzv-backend", "c10d",
                    "--rdzv-endpoint", f"127.0.0.1:{free_port()}", "-m", "xnn.parallel.worker",
                    *worker_cmd("torch", spec, part, "--checkpoint-steps", "4")[3:])
    res = run_local([cmd], [{**env_base(), **fault("kill", 11)}], timeout_s=150, cwd=str(ROOT), grace_s=3)
    assert res.returncode == 0, res.message
    # the restarted workers resumed from the epoch-end checkpoint (step 9): the history is whole anyway
    hist = lambda p: json.loads((p / "metrics.json").read_text())["history"]  # noqa: E731
    assert [h["epoch"] for h in hist(part)] == [h["epoch"] for h in hist(full)] == [1, 2]
    assert [h["loss"] for h in hist(part)] == pytest.approx([h["loss"] for h in hist(full)], rel=1e-10)
    a, b = load_params(part / "weights.safetensors"), load_params(full / "weights.safetensors")
    for k in b:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-12, atol=1e-12, err_msg=k)


def test_two_machines_on_loopback(tmp_path):
    """Two torchrun launchers (node ranks 0 and 1, one worker each) train one job."""
    from xnn.parallel.launch import free_port, run_local

    from .helpers import assert_params_close, torch_reference

    d = mlp_spec(batchnorm=True, mode="data", workers=2, timeout_s=30)
    spec = write_spec(tmp_path, d)
    port = free_port()
    cmds = [_torchrun("--nnodes", "2", "--node-rank", str(i), "--nproc-per-node", "1", "--rdzv-backend", "static",
                      "--master-addr", "127.0.0.1", "--master-port", str(port), "-m", "xnn.parallel.worker",
                      *worker_cmd("torch", spec, tmp_path / "run", "--max-steps", "5")[3:]) for i in range(2)]
    res = run_local(cmds, [env_base()] * 2, timeout_s=150, cwd=str(ROOT), grace_s=3)
    assert res.returncode == 0, res.message
    assert_params_close(load_params(tmp_path / "run" / "weights.safetensors"), torch_reference(d, 5))
