"""What each zoo model reaches in one CPU minute on each backend (docs/zoo.md's table).

For every ``examples/zoo/*.yaml``: one thread, the spec's own data, optimizer and batch size,
no epoch limit; training stops after the step at which the process has used ``--seconds`` of
CPU time (default 60) counted from the start of ``xnn.fit`` (model build and tracing included),
then the test split is scored. CPU time rather than wall time: other work on a shared machine
slows the wall clock, not the CPU seconds this process spends, so the table is reproducible
within a few steps.

    python bench/zoo_minute.py [--seconds 60] [--models lenet5,vgg11_small] [--backends torch,keras] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import torch  # noqa: E402,F401  (torch before tensorflow in one process)

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))



def measure(name: str, backend: str, seconds: float) -> dict:
    import xnn
    from xnn import zoo

    spec = xnn.load_spec(zoo.get(name).path, overrides=["train.threads=1", "train.epochs=100000"])
    data = xnn.data.load(spec)
    info: dict = {}

    def budget(step: dict) -> bool:
        info.update(step)
        return time.process_time() - c0 >= seconds

    c0, w0 = time.process_time(), time.perf_counter()
    res = xnn.fit(spec, backend=backend, data=data, progress=False, callback=budget)
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    steps = int(info.get("step", 0))
    row = {"model": name, "backend": backend, "steps": steps,
           "epochs": round(steps * spec.train.batch_size / len(data.train[0]), 2),
           "cpu_s": round(cpu, 1), "wall_s": round(wall, 1)}
    row.update({f"test_{k}": round(float(v), 4) for k, v in (res.test or {}).items()})
    return row


def main(argv: list[str] | None = None) -> int:
    from xnn import zoo

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--models", default=",".join(e.name for e in zoo.entries()))
    ap.add_argument("--backends", default="torch,keras")
    ap.add_argument("--json", help="also write the rows as JSON to this file")
    a = ap.parse_args(argv)
    rows = []
    print(f"{'model':<18}{'backend':<8}{'steps':>7}{'epochs':>8}{'cpu s':>8}{'wall s':>8}  test")
    for name in a.models.split(","):
        for b in a.backends.split(","):
            r = measure(name, b, a.seconds)
            rows.append(r)
            test = "  ".join(f"{k[5:]} {v}" for k, v in r.items() if k.startswith("test_") and k != "test_loss")
            print(f"{name:<18}{b:<8}{r['steps']:>7}{r['epochs']:>8}{r['cpu_s']:>8}{r['wall_s']:>8}  {test}", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
