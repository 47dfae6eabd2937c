"""Parallel training throughput, every figure measured in this run on this machine.

CNN: 32x32x1 -> 3 x (Conv 3x3x32, relu) -> Dense 10, batch 64, SGD, float32, one thread per
process. A ratio needs that many idle cores: the load average printed first tells whether they were.

    python bench/bench_parallel.py [--steps 30]

Prints (loop time from each run's metrics.json, excluding process start and data loading):
- torch sync DP: 2 workers x 1 thread vs 1 worker x 1 thread on a compute-bound CNN (ratio of
  samples/s; target >= 1.6 on a machine with 2 free cores);
- keras MirroredStrategy: 2 logical CPUs vs 1 (same CNN);
- torch async (parameter server + 2 workers) vs sync DP at 2 workers (samples/s);
- torch pipeline, 2 stages x 4 microbatches vs the unsplit model (one process).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from xnn.parallel.launch import free_port, python_cmd, run_local, torch_env  # noqa: E402


def cnn(steps: int, batch: int = 64, **parallel) -> dict:
    return {
        "name": "bench_cnn", "input": {"shape": [32, 32, 1]},
        "model": [{"type": "Conv2D", "filters": 32, "kernel_size": 3, "padding": "same", "name": "c1"},
                  {"type": "Activation", "fn": "relu", "name": "r1"},
                  {"type": "Conv2D", "filters": 32, "kernel_size": 3, "padding": "same", "name": "c2"},
                  {"type": "Activation", "fn": "relu", "name": "r2"},
                  {"type": "Conv2D", "filters": 32, "kernel_size": 3, "padding": "same", "name": "c3"},
                  {"type": "Activation", "fn": "relu", "name": "r3"},
                  {"type": "Flatten", "name": "f"}, {"type": "Dense", "units": 10, "name": "o"}],
        "train": {"epochs": 100, "batch_size": batch, "seed": 0, "optimizer": {"type": "sgd", "lr": 0.01}, "threads": 1},
        "data": {"source": "synthetic_classification", "options": {"n_samples": batch * (steps + 2), "n_classes": 10},
                 "split": {"val": 0.0, "test": 0.0, "stratify": False}},
        "parallel": parallel,
    }


def run(backend: str, spec: dict, nprocs: int, steps: int, tmp: Path, tag: str) -> dict:
    d = tmp / tag
    d.mkdir()
    (d / "spec.yaml").write_text(yaml.safe_dump(spec))
    cmd = python_cmd("xnn.parallel.worker", "--backend", backend, "--spec", str(d / "spec.yaml"), "--out", str(d / "run"),
                     "--max-steps", str(steps), "--quiet")
    port = free_port()
    env = {"OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT), "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    res = run_local([cmd] * nprocs, [{**env, **(torch_env(r, nprocs, port) if backend == "torch" else {})} for r in range(nprocs)],
                    timeout_s=600, stream=False)
    if res.returncode:
        raise SystemExit(f"{tag}: {res.message}")
    m = json.loads((d / "run" / "metrics.json").read_text())
    return {"seconds": m["seconds"], "samples": m["steps"] * spec["train"]["batch_size"]}


def rate(r: dict) -> float:
    return r["samples"] / r["seconds"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=30)
    a = ap.parse_args()
    s = a.steps
    print(f"cpus: {os.cpu_count()}  load average before: {os.getloadavg()[0]:.2f}  steps: {s}  batch: 64")
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        one = run("torch", cnn(s, mode="data", workers=1), 1, s, tmp, "t1")
        two = run("torch", cnn(s, mode="data", workers=2), 2, s, tmp, "t2")
        print(f"torch sync DP 2x1 thread vs 1x1 thread: {rate(two) / rate(one):.2f}x  "
              f"({rate(two):.0f} vs {rate(one):.0f} samples/s)")
        k1 = run("keras", cnn(s, mode="data", workers=1), 1, s, tmp, "k1")
        k2 = run("keras", cnn(s, mode="data", workers=2), 1, s, tmp, "k2")
        print(f"keras MirroredStrategy 2 logical CPUs vs 1: {rate(k2) / rate(k1):.2f}x  "
              f"({rate(k2):.0f} vs {rate(k1):.0f} samples/s)")
        asy = run("torch", cnn(s, mode="data", workers=2, sync=False, max_staleness=4), 3, s, tmp, "ta")
        print(f"torch async (PS + 2 workers) vs sync DP at 2 workers: {rate(asy) / rate(two):.2f}x  "
              f"({rate(asy):.0f} vs {rate(two):.0f} samples/s)")
        # cut by compute (c2 and c3 dominate), not by parameter count (the Dense layer holds most)
        stages = [["c1", "r1", "c2", "r2"], ["c3", "r3", "f", "o"]]
        pipe = run("torch", cnn(s, mode="model", stages=stages, microbatches=4), 2, s, tmp, "tp")
        print(f"torch pipeline 2 stages x 4 microbatches vs unsplit: {rate(pipe) / rate(one):.2f}x  "
              f"({rate(pipe):.0f} vs {rate(one):.0f} samples/s)")


if __name__ == "__main__":
    main()
