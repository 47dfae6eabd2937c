"""What each zoo model reaches in one CPU minute on each backend (docs/zoo.md's table).

For every ``examples/zoo/*.yaml``: one thread, the spec's own data, optimizer and batch size,
no epoch limit. A probe run of two epochs measures the start-up time (build,
tracing) and the time of a step including its share of the epoch-end validation; the measured
run then gets ``max_steps`` so that start-up plus steps fill ``--seconds`` (default 60), and
reports its wall time, epochs, and test metrics.
Times on a shared machine are noisy; the table is a guide, not a benchmark.

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



def _run(spec, backend: str, data, max_steps: int) -> tuple[float, list[float], object]:
    import xnn

    stamps: list[float] = []
    t0 = time.perf_counter()
    res = xnn.fit(spec, backend=backend, data=data, progress=False, max_steps=max_steps,
                  callback=lambda info: stamps.append(time.perf_counter()))
    return t0, stamps, res


def measure(name: str, backend: str, seconds: float) -> dict:
    import xnn
    from xnn import zoo

    spec = xnn.load_spec(zoo.get(name).path, overrides=["train.threads=1", "train.epochs=100000"])
    data = xnn.data.load(spec)
    spe = -(-len(data.train[0]) // spec.train.batch_size)  # steps per epoch
    t0, stamps, _ = _run(spec, backend, data, 2 * spe + 1)
    per_step = (stamps[2 * spe] - stamps[spe]) / spe  # the second epoch's steps and its validation pass
    startup = stamps[spe] - t0 - spe * per_step  # build, tracing, the first validation's tracing
    steps = max(1, int((seconds - startup) / per_step))
    t0, stamps, res = _run(spec, backend, data, steps)
    wall = time.perf_counter() - t0
    n_train = len(data.train[0])
    epochs = steps * spec.train.batch_size / n_train
    row = {"model": name, "backend": backend, "steps": steps, "epochs": round(epochs, 2), "wall_s": round(wall, 1),
           "ms_per_step": round(1000 * per_step, 1), "startup_s": round(startup, 1)}
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
    print(f"{'model':<18}{'backend':<8}{'steps':>7}{'epochs':>8}{'wall s':>8}{'ms/step':>9}  test")
    for name in a.models.split(","):
        for b in a.backends.split(","):
            r = measure(name, b, a.seconds)
            rows.append(r)
            test = "  ".join(f"{k[5:]} {v}" for k, v in r.items() if k.startswith("test_") and k != "test_loss")
            print(f"{name:<18}{b:<8}{r['steps']:>7}{r['epochs']:>8}{r['wall_s']:>8}{r['ms_per_step']:>9}  {test}", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
