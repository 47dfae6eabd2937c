"""``kill -9`` of the launcher leaves no worker behind (xnn/parallel/lifetime.py).

The slow tests start ``python -m xnn train SPEC --out R`` with a spec that trains far longer than
the test, wait until its workers are training, SIGKILL the launcher (so its own clean-up cannot
run) and check that every worker it started is gone and nothing more is written to the run.
The quick tests check the mechanism itself with tiny Python children (no framework).
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from xnn.parallel.lifetime import ENV, Lifeline

from .helpers import ROOT, env_base, mlp_spec, write_spec

GONE_WITHIN_S = 60  # hang guard only: workers normally die at once (PR_SET_PDEATHSIG / the pipe's EOF)


# ---------------------------------------------------------------- /proc helpers (no psutil)


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie nobody reaped yet counts as gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _children(pid: int) -> list[int]:
    kids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and _alive(int(d.name)):
            kids.append(int(d.name))
    return sorted(kids)


def _maps(pid: int, lib: str) -> bool:
    try:
        return lib in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def _wait_gone(pids: list[int], within_s: float = GONE_WITHIN_S) -> list[int]:
    end = time.monotonic() + within_s
    while time.monotonic() < end:
        left = [p for p in pids if _alive(p)]
        if not left:
            return []
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


def _snapshot(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}


def _sigkill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


# ---------------------------------------------------------------- xnn train, kill -9


def _spec(tmp: Path, sync: bool) -> Path:
    kw = dict(mode="data", workers=2, timeout_s=15)
    if not sync:
        kw.update(sync=False, max_staleness=2)
    d = mlp_spec(batchnorm=sync, **kw)  # async SGD refuses BatchNorm
    d["train"]["epochs"] = 100000  # still training when the test ends
    return write_spec(tmp, d)


CASES = [  # backend, sync, processes `xnn train` starts, does the run checkpoint (epoch ends)
    pytest.param("torch", True, 2, True, id="torch-ddp"),
    pytest.param("torch", False, 3, False, id="torch-async"),  # parameter server + 2 workers
    pytest.param("keras", True, 1, True, id="keras-mirrored"),  # one MirroredStrategy process
    pytest.param("keras", False, 4, True, id="keras-ps"),  # chief, 2 workers, ps
]


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("backend,sync,n,checkpoints", CASES)
def test_kill9_of_xnn_train_leaves_no_worker(tmp_path, backend, sync, n, checkpoints):
    spec = _spec(tmp_path, sync)
    out = tmp_path / "run"
    log = tmp_path / "train.log"
    with open(log, "w") as f:  # a file, not a pipe: a full pipe would block the workers
        launcher = subprocess.Popen([sys.executable, "-m", "xnn", "train", str(spec), "--backend", backend,
                                     "--out", str(out), "--quiet"], cwd=ROOT, env={**os.environ, **env_base()},
                                    stdout=f, stderr=subprocess.STDOUT, start_new_session=True)
    workers: list[int] = []
    try:
        end = time.monotonic() + 150
        lib = "libtorch_cpu" if backend == "torch" else "tensorflow"
        while True:  # training: all workers started, framework loaded, a checkpoint written where there are any
            assert launcher.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < end, f"workers did not start training: {log.read_text()[-3000:]}"
            workers = _children(launcher.pid)
            ready = len(workers) == n and all(_maps(w, lib) for w in workers)
            if ready and (not checkpoints or list((out / "checkpoints").glob("epoch_*"))):
                break
            time.sleep(0.2)
        if not checkpoints:
            time.sleep(3)  # past start-up, into the updates
        assert all(_alive(w) for w in workers), log.read_text()[-3000:]

        os.kill(launcher.pid, signal.SIGKILL)
        launcher.wait(timeout=30)
        left = _wait_gone(workers)
        assert not left, f"orphaned workers still running: {left}\n{log.read_text()[-3000:]}"

        before = _snapshot(out)
        time.sleep(2)
        assert _snapshot(out) == before, "the run folder changed after every worker was gone"
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait(timeout=30)
        _sigkill_all(workers)


# ---------------------------------------------------------------- the mechanism, tiny children


CHILD = textwrap.dedent("""
    import os, sys, time
    sys.path.insert(0, {root!r})
    time.sleep(float(sys.argv[1]))
    from xnn.parallel.lifetime import watch_launcher
    print(watch_launcher(), os.environ.get("XNN_LAUNCHER"), flush=True)
    time.sleep(120)
""")


def _child_cmd(tmp: Path, delay: float = 0.0) -> list[str]:
    p = tmp / "child.py"
    p.write_text(CHILD.format(root=str(ROOT)))
    return [sys.executable, str(p), str(delay)]


def _first_line(p: subprocess.Popen) -> str:
    return p.stdout.readline().strip()  # the test's timeout guards a child that never prints


@pytest.mark.timeout(60)
def test_closing_the_lifeline_stops_the_worker(tmp_path):
    """The pipe alone (as when the launcher started workers from another thread: no pdeathsig)."""
    line = Lifeline(pdeathsig=False)
    p = subprocess.Popen(_child_cmd(tmp_path), env={**os.environ, **line.env()}, pass_fds=line.pass_fds,
                         stdout=subprocess.PIPE, text=True, start_new_session=True)
    try:
        assert _first_line(p) == "pipe None"  # armed, and the variable is not passed on
        assert p.poll() is None
        line.close()
        assert p.wait(timeout=GONE_WITHIN_S) == -signal.SIGKILL
    finally:
        line.close()
        _sigkill_all([p.pid])


@pytest.mark.timeout(60)
def test_pdeathsig_is_armed_from_the_main_thread(tmp_path):
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux only")
    with Lifeline() as line:
        q = subprocess.Popen(_child_cmd(tmp_path), env={**os.environ, **line.env()}, pass_fds=line.pass_fds,
                             stdout=subprocess.PIPE, text=True, start_new_session=True)
        try:
            assert _first_line(q) == "pipe+pdeathsig None"
        finally:
            _sigkill_all([q.pid])
            q.wait(timeout=30)


@pytest.mark.timeout(60)
def test_not_started_by_xnn_launcher_is_left_alone(tmp_path):
    """No variable (torchrun, a shell), or a variable without its pipe (a process started through
    torchrun's agent under xnn's launcher: the fd was not passed on): nothing is armed."""
    with Lifeline() as line:
        for env in ({}, line.env()):  # second: the variable, but no pass_fds
            clean = {k: v for k, v in os.environ.items() if k != ENV}
            p = subprocess.Popen(_child_cmd(tmp_path), env={**clean, **env}, stdout=subprocess.PIPE, text=True,
                                 start_new_session=True)
            try:
                assert _first_line(p) == "off None"
                assert p.poll() is None
            finally:
                _sigkill_all([p.pid])
                p.wait(timeout=30)


@pytest.mark.timeout(60)
def test_worker_whose_launcher_died_before_it_started_stops(tmp_path):
    """The race PR_SET_PDEATHSIG alone misses: the launcher is SIGKILLed before the worker arms."""
    marker = tmp_path / "pid"
    launcher = textwrap.dedent(f"""
        import os, signal, subprocess, sys
        sys.path.insert(0, {str(ROOT)!r})
        from xnn.parallel.lifetime import Lifeline
        line = Lifeline()
        p = subprocess.Popen({_child_cmd(tmp_path, delay=1.5)!r}, env={{**os.environ, **line.env()}},
                             pass_fds=line.pass_fds, start_new_session=True, stdout=subprocess.DEVNULL)
        open({str(marker)!r}, "w").write(str(p.pid))
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    r = subprocess.run([sys.executable, "-c", launcher], timeout=30)
    assert r.returncode == -signal.SIGKILL
    child = int(marker.read_text())
    try:
        assert not _wait_gone([child]), "the worker outlived a launcher that died before it armed"
    finally:
        _sigkill_all([child])
