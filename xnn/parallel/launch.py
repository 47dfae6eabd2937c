"""Start N local worker processes and supervise them: the first failure stops the whole job.

``xnn train`` uses this for one machine with N workers. Several machines use the engines' own
launchers instead (``torchrun``, ``TF_CONFIG``); see docs/parallel.md.

Each worker runs in its own session (process group), so stopping it also stops whatever it
started; a job never leaves orphans behind: on failure, timeout or Ctrl-C every group gets
SIGTERM, then SIGKILL after ``grace_s``. When the launcher itself is killed (``kill -9``) and none
of that can run, the workers notice and kill themselves (``xnn.parallel.lifetime``: a lifeline
pipe, and PR_SET_PDEATHSIG on Linux).
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from typing import Sequence

from .lifetime import Lifeline


def free_port() -> int:
    """A TCP port free on the loopback interface right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LaunchResult:
    returncode: int  # 0 when every worker exited 0
    failed_rank: int | None
    message: str
    codes: list[int | None]


def _kill_group(p: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _term_as_exit(signum: int, frame) -> None:
    raise SystemExit(128 + signum)


def _wait_into(p: subprocess.Popen, i: int, exited: list[int]) -> None:
    p.wait()
    exited.append(i)


def stop_all(procs: Sequence[subprocess.Popen], grace_s: float = 5.0) -> None:
    """SIGTERM every worker's process group, then SIGKILL those still alive after ``grace_s``."""
    for p in procs:
        if p.poll() is None:
            _kill_group(p, signal.SIGTERM)
    end = time.monotonic() + grace_s
    for p in procs:
        while p.poll() is None and time.monotonic() < end:
            time.sleep(0.05)
    for p in procs:
        if p.poll() is None:
            _kill_group(p, signal.SIGKILL)
        try:
            p.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
        # the group may hold grandchildren even after the leader is gone
        _kill_group(p, signal.SIGKILL)


def run_local(cmds: Sequence[Sequence[str]], envs: Sequence[dict[str, str]], timeout_s: float | None = None,
              grace_s: float = 5.0, cwd: str | None = None, stream: bool = True,
              names: Sequence[str] | None = None, primary: int | None = None) -> LaunchResult:
    """Run one process per command, each with ``os.environ | envs[i]``; supervise until all end.

    - all exit 0: returncode 0;
    - one exits non-zero (or is killed): the others are stopped, returncode is its code (>= 1);
    - ``timeout_s`` passes: all are stopped, returncode 124;
    - ``primary`` given (a TF parameter-server cluster's chief): when it exits 0 the job is done
      and the others (servers that never return by themselves) are stopped.
    Output of each worker goes to this process's stdout/stderr (``stream``) or to DEVNULL.
    """
    procs: list[subprocess.Popen] = []
    names = list(names) if names else [f"worker {i}" for i in range(len(cmds))]
    out = None if stream else subprocess.DEVNULL
    exited: list[int] = []  # indices in the order the processes ended
    # SIGTERM to the launcher (a scheduler, `kill`) must stop the workers too: as an exception it
    # reaches the `except` below; by default it would end this process and orphan every worker
    main = threading.current_thread() is threading.main_thread()
    old_term = signal.signal(signal.SIGTERM, _term_as_exit) if main else None
    # kill -9 of this process: the workers see the lifeline's EOF (and, started from the main
    # thread on Linux, get PR_SET_PDEATHSIG) and kill themselves (xnn/parallel/lifetime.py)
    line = Lifeline(pdeathsig=main)
    try:
        for i, (cmd, env) in enumerate(zip(cmds, envs)):
            procs.append(subprocess.Popen(list(cmd), env={**os.environ, **env, **line.env()}, cwd=cwd, stdout=out,
                                          stderr=out, start_new_session=True, pass_fds=line.pass_fds))
            # one waiter per process records exit order: a peer that loses the failed worker may
            # exit within the same polling interval, and the job must name the worker that failed first
            threading.Thread(target=_wait_into, args=(procs[-1], i, exited), daemon=True).start()
        start = time.monotonic()
        while True:
            codes = [p.returncode if i in exited else None for i, p in enumerate(procs)]
            bad = [(i, codes[i]) for i in list(exited) if codes[i] not in (None, 0)]
            if bad:
                i, c = bad[0]
                stop_all(procs, grace_s)
                why = f"killed by signal {-c}" if c < 0 else f"exited with code {c}"
                return LaunchResult(c if c > 0 else 1, i, f"{names[i]} {why}; stopped the other workers",
                                    [p.poll() for p in procs])
            if all(c == 0 for c in codes):
                return LaunchResult(0, None, "all workers finished", codes)
            if primary is not None and codes[primary] == 0:
                stop_all(procs, grace_s)
                return LaunchResult(0, None, f"{names[primary]} finished; stopped the servers", [p.poll() for p in procs])
            if timeout_s is not None and time.monotonic() - start > timeout_s:
                stop_all(procs, grace_s)
                return LaunchResult(124, None, f"job did not finish within {timeout_s:.0f} s; stopped all workers",
                                    [p.poll() for p in procs])
            time.sleep(0.05)
    except BaseException:
        stop_all(procs, grace_s)
        raise
    finally:
        line.close()  # a worker somehow still alive stops now
        if main:
            signal.signal(signal.SIGTERM, old_term if old_term is not None else signal.SIG_DFL)


def python_cmd(module: str, *args: str) -> list[str]:
    """``[sys.executable, -m, module, *args]``: a worker command using this interpreter."""
    return [sys.executable, "-m", module, *args]


def torch_env(rank: int, world: int, port: int, addr: str = "127.0.0.1", local_rank: int | None = None) -> dict[str, str]:
    """The environment torchrun would give worker ``rank`` (env:// rendezvous)."""
    return {"RANK": str(rank), "WORLD_SIZE": str(world), "LOCAL_RANK": str(rank if local_rank is None else local_rank),
            "LOCAL_WORLD_SIZE": str(world), "MASTER_ADDR": addr, "MASTER_PORT": str(port)}


def tf_config(cluster: dict[str, list[str]], task_type: str, index: int) -> dict[str, str]:
    """``TF_CONFIG`` for one task of a tf.distribute cluster."""
    import json

    return {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": task_type, "index": index}})}




def train(spec, backend: str, out, resume: bool = False, timeout_s: float | None = None,
          max_steps: int | None = None, quiet: bool = False) -> int:
    """Start the local processes of a parallel run (the backend's topology) and supervise them;
    each runs :func:`xnn.train.fit` with its engine and rank 0 writes ``out``. The folder must be
    prepared already (``fit`` does it). Under torchrun (``RANK`` set) this process *is* a worker.

    Returns 0, or raises TrainingError naming the first failing worker (every other one stopped).
    """
    from pathlib import Path

    from ..backends.processes import topology
    from ..data import load
    from ..errors import TrainingError
    from ..fileio import write_text
    from .worker import check_sizes

    check_sizes(spec, load(spec))  # before any process starts (NumPy only)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xnn-launch-") as tmp:
        # the workers read the spec asked for; the run's spec.yaml changes only when fit writes it
        spec_file = Path(tmp) / "spec.yaml"
        write_text(spec_file, spec.to_yaml())
        args = ["--backend", backend, "--spec", str(spec_file), "--out", str(out)]
        if max_steps is not None:
            args += ["--max-steps", str(max_steps)]
        if quiet:
            args.append("--quiet")
        if os.environ.get("RANK") is not None and backend == "torch":
            from .worker import main

            return main(args)
        procs, primary = topology(backend, spec, free_port)
        cmd = python_cmd("xnn.parallel.worker", *args)
        res = run_local([cmd] * len(procs), [env for _, env in procs], timeout_s=timeout_s,
                        names=[name for name, _ in procs], primary=primary)
    if res.returncode != 0:
        raise TrainingError(f"parallel training failed: {res.message}")
    return 0
