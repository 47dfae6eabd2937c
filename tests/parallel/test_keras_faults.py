"""Faults on the Keras backend's multi-process modes, with real tf.distribute clusters on loopback.

MultiWorkerMirroredStrategy (2 worker processes, sync) and ParameterServerStrategy (chief, 2
workers, 1 ps; async, launched by ``xnn train``): a process that raises, dies or hangs stops the
whole job within a bounded time, non-zero, with one ``error:`` line naming it, and leaves no
process behind; checkpoints are written at epoch ends and ``--resume`` continues from them.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from xnn.parallel.launch import LaunchResult, free_port, run_local, stop_all, tf_config

from .helpers import ROOT, checkpoint_names, env_base, fault, load_params, mlp_spec, worker_cmd, write_spec

pytestmark = pytest.mark.timeout(150)

TIMEOUT_S = 8  # parallel.timeout_s of the fault specs
MARGIN_S = 40  # process start (TF import on a shared 2-core machine) + SIGTERM/SIGKILL grace


def _no_process_mentions(marker: str) -> bool:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return not any(marker in line and "ps -eo" not in line for line in out.splitlines())


def _mwms(cmd: list[str], timeout_s: float = 120, env: dict | None = None) -> tuple[LaunchResult, float]:
    """Two MultiWorkerMirroredStrategy workers (TF_CONFIG, loopback) under the local supervisor."""
    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    t0 = time.monotonic()
    res = run_local([cmd, cmd], [{**env_base(), **(env or {}), **tf_config(cluster, "worker", i)} for i in range(2)],
                    timeout_s=timeout_s, cwd=str(ROOT), grace_s=3)
    return res, time.monotonic() - t0


def _error_lines(text: str) -> list[str]:
    return [ln for ln in text.splitlines() if ln.startswith("error:")]


# ---------------------------------------------------------------- MultiWorkerMirroredStrategy


@pytest.mark.parametrize("how", ["fail", "hang"])
def test_mwms_failing_or_hung_worker_stops_the_job(tmp_path, capfd, how):
    d = mlp_spec(batchnorm=False, mode="data", workers=2, timeout_s=TIMEOUT_S)
    spec = write_spec(tmp_path, d)
    res, secs = _mwms(worker_cmd("keras", spec, tmp_path / "run"), env=fault(how, 3))
    err = capfd.readouterr().err
    assert res.returncode not in (0, 124), f"the collective timeout, not the supervisor's, must end the job: {res}"
    assert secs < TIMEOUT_S + MARGIN_S + 30, secs  # + 30: two TF processes start before step 3
    lines = _error_lines(err)
    if how == "fail":
        # the launcher names the worker that failed first; its own error line comes first (its peer
        # may add one saying it lost contact)
        assert res.failed_rank == 1 and res.message.startswith("worker 1 exited with code 1"), res.message
        assert lines[0] == "error: worker 1 failed: RuntimeError: injected failure at step 3", lines
        assert all("lost contact with a peer" in ln for ln in lines[1:]), lines
    else:
        # the hung worker stays alive; its peer's next collective times out and ends the job
        assert res.failed_rank == 0, res.message
        if res.message.startswith("worker 0 exited"):
            assert lines == [f"error: [worker 0] a collective did not finish within parallel.timeout_s = {TIMEOUT_S} s: "
                             "a peer worker is hung or too slow"], (res, err[-3000:])
        else:
            # TF's collective abort sometimes crashes the process that timed out ('Mutex corrupt',
            # SIGABRT / SIGSEGV) before Python sees the error: the launcher still names it
            assert res.message.startswith(("worker 0 killed by signal 6", "worker 0 killed by signal 11")), res.message
    assert _no_process_mentions(str(tmp_path))


def test_mwms_checkpoints_and_resume_after_kill_match_uninterrupted(tmp_path):
    d = mlp_spec(batchnorm=True, mode="data", workers=2, sync_batchnorm=True, timeout_s=TIMEOUT_S)
    spec = write_spec(tmp_path, d)
    full = tmp_path / "full"
    res, _ = _mwms(worker_cmd("keras", spec, full))
    assert res.returncode == 0, res.message
    # 134 train samples / batch 16: 9 steps per epoch, so epoch-end checkpoints at steps 9 and 18
    assert checkpoint_names(full) == ["epoch_0001", "epoch_0002"]  # no temp folder left behind
    part = tmp_path / "part"
    # worker 1 SIGKILLs itself mid-epoch 2 (step 12): the supervisor stops worker 0; resume from step 9
    first, _ = _mwms(worker_cmd("keras", spec, part), env=fault("kill", 12))
    assert first.returncode != 0 and first.failed_rank == 1, first.message
    assert "killed by signal 9" in first.message
    assert checkpoint_names(part) == ["epoch_0001"]
    assert not (part / "weights.safetensors").exists()
    again, _ = _mwms(worker_cmd("keras", spec, part))
    assert again.returncode == 0, again.message
    hist = lambda p: json.loads((p / "metrics.json").read_text())["history"]  # noqa: E731
    assert [h["epoch"] for h in hist(part)] == [h["epoch"] for h in hist(full)] == [1, 2]  # history kept on resume
    assert [h["loss"] for h in hist(part)] == pytest.approx([h["loss"] for h in hist(full)], rel=1e-10)
    a, b = load_params(part / "weights.safetensors"), load_params(full / "weights.safetensors")
    for k in b:
        np.testing.assert_allclose(a[k], b[k], rtol=1e-12, atol=1e-12, err_msg=k)
    assert _no_process_mentions(str(tmp_path))


# ---------------------------------------------------------------- ParameterServerStrategy


def _ps_spec(epochs: int) -> dict:
    # async SGD refuses BatchNorm; 9 steps per epoch
    d = mlp_spec(batchnorm=False, mode="data", workers=2, sync=False, max_staleness=2, timeout_s=PS_TIMEOUT_S)
    d["train"]["epochs"] = epochs
    return d


PS_TIMEOUT_S = 15  # the first window also pays for sending the step function to the workers


def test_ps_chief_that_raises_stops_the_cluster(tmp_path, capfd):
    from .helpers import launch_tf_ps

    spec = write_spec(tmp_path, _ps_spec(2))
    t0 = time.monotonic()
    res = launch_tf_ps(worker_cmd("keras", spec, tmp_path / "run"), timeout_s=120, env=fault("fail", 3, rank=0))
    secs = time.monotonic() - t0
    lines = _error_lines(capfd.readouterr().err)
    assert res.returncode not in (0, 124) and res.failed_rank == 0, res
    assert res.message.startswith("chief 0 exited with code 1"), res.message
    assert lines == ["error: chief 0 failed: RuntimeError: injected failure at step 3"], lines
    assert secs < MARGIN_S + 30, secs
    assert _no_process_mentions(str(tmp_path))


def _cli_train(tmp: Path, spec: Path, out: Path, *extra: str) -> tuple[subprocess.Popen, Path]:
    """``xnn train`` in its own session, output to a file (a full pipe would block the workers)."""
    log = tmp / f"{out.name}-{len(list(tmp.glob('*.log')))}.log"
    with open(log, "w") as f:
        p = subprocess.Popen([sys.executable, "-m", "xnn", "train", str(spec), "--backend", "keras", "--out", str(out),
                              "--quiet", *extra], cwd=ROOT, env={**os.environ, **env_base()}, stdout=f,
                             stderr=subprocess.STDOUT, start_new_session=True)
    return p, log


def _task_pid(parent: int, task: tuple[str, int]) -> int:
    """The pid of the launcher's child that runs TF_CONFIG task ``task``."""
    rows = subprocess.run(["ps", "-eo", "pid=,ppid="], capture_output=True, text=True).stdout.split("\n")
    for row in rows:
        if not row.strip() or int(row.split()[1]) != parent:
            continue
        pid = int(row.split()[0])
        try:
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for kv in env:
            if kv.startswith(b"TF_CONFIG="):
                t = json.loads(kv[len(b"TF_CONFIG="):])["task"]
                if (t["type"], int(t["index"])) == task:
                    return pid
    raise AssertionError(f"no process for {task} under {parent}")


def _wait_for_checkpoint(p: subprocess.Popen, out: Path, log: Path, deadline_s: float = 90) -> None:
    end = time.monotonic() + deadline_s
    while not checkpoint_names(out):
        assert p.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < end, "no checkpoint written"
        time.sleep(0.05)


def _stop(p: subprocess.Popen, extra_pids: list[int]) -> None:
    """Test cleanup: SIGTERM makes the launcher stop its workers; SIGKILL whatever is left."""
    if p.poll() is None:
        os.kill(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pass
    for pid in [p.pid, *extra_pids]:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@pytest.mark.parametrize("how", ["hang", "kill"])
def test_ps_worker_that_hangs_or_dies_stops_xnn_train_and_resume_finishes(tmp_path, how):
    """``xnn train`` (chief, 2 workers, 1 ps). Once the first epoch is checkpointed, worker 1 is
    stopped (SIGSTOP: a hang) or killed; the job ends non-zero within the bound naming the failed
    process. After the kill, ``--resume`` continues from the saved epoch and finishes."""
    epochs = 20  # long enough that the fault lands mid-training (an epoch takes a fraction of a second)
    spec = write_spec(tmp_path, _ps_spec(epochs))
    out = tmp_path / "run"
    p, log = _cli_train(tmp_path, spec, out)
    pids: list[int] = []
    try:
        _wait_for_checkpoint(p, out, log)
        pids.append(_task_pid(p.pid, ("worker", 1)))
        t0 = time.monotonic()
        os.kill(pids[-1], signal.SIGSTOP if how == "hang" else signal.SIGKILL)
        code = p.wait(timeout=PS_TIMEOUT_S + MARGIN_S)
        secs = time.monotonic() - t0
        text = log.read_text()
        lines = _error_lines(text)
        assert code == 1, text[-3000:]
        if how == "hang":
            # the chief's bounded wait for the window's updates ends the job; it names itself
            assert secs < PS_TIMEOUT_S + MARGIN_S, secs
            assert lines[0] == (f"error: [chief 0] no update finished within parallel.timeout_s = {PS_TIMEOUT_S} s: "
                                "a worker or parameter server is not responding"), lines
            assert lines[-1].startswith("error: parallel training failed: chief 0 exited with code 1"), lines
        else:
            assert secs < MARGIN_S, secs
            assert lines == ["error: parallel training failed: worker 1 killed by signal 9; stopped the other workers"], lines
        assert _no_process_mentions(str(tmp_path))
        if how == "hang":
            return
        from xnn.train.run import latest_checkpoint

        ck = latest_checkpoint(out)
        assert "d1.weight" in ck.params and any(k.startswith("d1.weight.") for k in ck.optimizer), sorted(ck.optimizer)[:5]
        e0, s0 = int(ck.state["epoch"]), int(ck.optimizer["step"][0])
        assert 1 <= e0 < epochs and s0 == 9 * e0, (e0, s0)
        p, log = _cli_train(tmp_path, spec, out, "--resume")
        assert p.wait(timeout=120) == 0, log.read_text()[-3000:]
        m = json.loads((out / "metrics.json").read_text())
        assert [h["epoch"] for h in m["history"]] == list(range(1, epochs + 1))  # the saved epochs kept, then the rest
        assert m["steps"] == 9 * epochs and m["staleness"]["updates"] == 9 * (epochs - e0)
        assert (out / "weights.safetensors").exists()
    finally:
        _stop(p, pids)
        for pid in pids:  # a stopped process cannot act on SIGTERM
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    assert _no_process_mentions(str(tmp_path))
