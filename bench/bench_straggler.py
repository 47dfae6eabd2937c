"""Stragglers: synchronous SGD runs at the pace of its slowest worker, asynchronous SGD does not.

Two workers train the digits CNN; in the "straggler" rows worker 1 runs at half speed (the
bench stops and continues that process on a 50% duty cycle, which works the same for torch
workers and for TensorFlow's worker servers, whose loop is not Python). Every figure is measured
in this run, on this machine; compare ratios, not absolute times.

    python bench/bench_straggler.py [--epochs 3] [--backend torch|keras|both]

Per backend, a table of samples/s and final test accuracy for sync and async, with and without
the straggler, and the slowdown ratio each mode suffers (straggler / no straggler). Torch: DDP vs
a parameter server with 2 workers. Keras: MultiWorkerMirroredStrategy (2 processes, TF_CONFIG)
vs ParameterServerStrategy (chief, 2 workers, 1 ps).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xnn.parallel.launch import free_port, python_cmd, stop_all, tf_config, torch_env  # noqa: E402

DUTY_S = 0.05  # the straggler is stopped DUTY_S, then runs DUTY_S


def spec(epochs: int, sync: bool) -> dict:
    return {
        "name": "straggler_cnn", "input": {"shape": [8, 8, 1]},
        "model": [{"type": "Conv2D", "filters": 16, "kernel_size": 3, "padding": "same", "name": "c1"},
                  {"type": "Activation", "fn": "relu", "name": "r1"}, {"type": "Flatten", "name": "f"},
                  {"type": "Dense", "units": 10, "name": "out"}],
        "train": {"epochs": epochs, "batch_size": 32, "seed": 0, "optimizer": {"type": "adam", "lr": 0.005},
                  "threads": 1, "metrics": ["accuracy"]},
        "data": {"source": "digits", "x": "minmax", "split": {"val": 0.0, "test": 0.2}},
        "parallel": {"mode": "data", "workers": 2, "sync": sync, "max_staleness": 4, "timeout_s": 120},
    }


def processes(backend: str, sync: bool) -> tuple[list[dict], int | None, int]:
    """(environments, primary index, index of the straggler) for 2 workers."""
    if backend == "torch":
        n = 2 if sync else 3  # async: rank 0 is the parameter server
        port = free_port()
        return [torch_env(r, n, port) for r in range(n)], None, 1 if sync else 2

    def hosts(k: int) -> list[str]:
        return [f"127.0.0.1:{free_port()}" for _ in range(k)]

    if sync:
        cluster = {"worker": hosts(2)}
        return [tf_config(cluster, "worker", i) for i in range(2)], None, 1
    cluster = {"chief": hosts(1), "worker": hosts(2), "ps": hosts(1)}
    tasks = [("chief", 0), ("worker", 0), ("worker", 1), ("ps", 0)]
    return [tf_config(cluster, t, i) for t, i in tasks], 0, 2


def run(backend: str, sync: bool, straggle: bool, epochs: int, tmp: Path) -> dict:
    tag = f"{backend}-{'sync' if sync else 'async'}-{'slow' if straggle else 'even'}"
    d = tmp / tag
    d.mkdir()
    (d / "spec.yaml").write_text(yaml.safe_dump(spec(epochs, sync)))
    cmd = python_cmd("xnn.parallel.worker", "--backend", backend, "--spec", str(d / "spec.yaml"), "--out",
                     str(d / "run"), "--quiet")
    envs, primary, slow = processes(backend, sync)
    base = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": "",
            "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
    procs = [subprocess.Popen(cmd, env={**base, **e}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              start_new_session=True) for e in envs]
    try:
        lead = procs[primary if primary is not None else 0]
        stopped = False
        while lead.poll() is None:
            if straggle and procs[slow].poll() is None:
                os.kill(procs[slow].pid, signal.SIGCONT if stopped else signal.SIGSTOP)
                stopped = not stopped
            time.sleep(DUTY_S)
        if stopped:
            os.kill(procs[slow].pid, signal.SIGCONT)
        if lead.returncode:
            raise SystemExit(f"{tag}: exit {lead.returncode}: {lead.stderr.read().decode()[-2000:]}")
        if primary is None:
            for p in procs:
                p.wait(timeout=120)
    finally:
        for p in procs:
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGCONT)
                except ProcessLookupError:
                    pass
        stop_all(procs, grace_s=3)
    m = json.loads((d / "run" / "metrics.json").read_text())
    return {"samples_per_s": m["steps"] * 32 / m["seconds"], "accuracy": m["test"]["accuracy"]}


def table(backend: str, epochs: int, tmp: Path) -> dict:
    rows = {(sync, slow): run(backend, sync, slow, epochs, tmp) for sync in (True, False) for slow in (False, True)}
    print(f"\n{backend}: 2 workers, digits CNN, {epochs} epochs")
    print(f"{'mode':<6} {'straggler':<10} {'samples/s':>10} {'test acc':>9}   slowdown")
    for sync in (True, False):
        even, slow = rows[(sync, False)], rows[(sync, True)]
        for flag, r in (("no", even), ("yes", slow)):
            ratio = f"{slow['samples_per_s'] / even['samples_per_s']:.2f}x" if flag == "yes" else ""
            print(f"{'sync' if sync else 'async':<6} {flag:<10} {r['samples_per_s']:>10.0f} {r['accuracy']:>9.3f}   {ratio}")
    return {f"{'sync' if k[0] else 'async'}_{'straggler' if k[1] else 'even'}": v for k, v in rows.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--backend", choices=["torch", "keras", "both"], default="both")
    ap.add_argument("--json", help="write the figures here")
    a = ap.parse_args()
    print(f"cpus: {os.cpu_count()}  load average before: {os.getloadavg()[0]:.2f}  "
          f"straggler: worker 1 stopped {DUTY_S * 1000:.0f} ms of every {2 * DUTY_S * 1000:.0f} ms")
    out = {}
    with tempfile.TemporaryDirectory() as t:
        for b in (["torch", "keras"] if a.backend == "both" else [a.backend]):
            out[b] = table(b, a.epochs, Path(t))
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
