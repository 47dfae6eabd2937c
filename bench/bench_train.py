"""Training throughput: xnn-compiled models vs the same models hand-written natively, measured
side by side in one run (interleaved repetitions, median), one thread.

- torch: xnn's Trainer on the compiled nn.Module vs a hand-written nn.Module with the same loop
  and optimizer (torch.optim.Adam, CrossEntropyLoss); MLP and the digits CNN. Target >= 0.97.
- keras: xnn's compiled tf.function step vs Keras `fit` on a hand-written keras.Model with
  Adam(epsilon=1e-8) and from_logits cross-entropy; same models. Target >= 0.97.
- xnn torch vs Keras 3 on its own torch backend (a separate process: KERAS_BACKEND is
  process-wide), MLP 64-128-64-10, batch 64: target >= 1.5x faster per step.

    python bench/bench_train.py [--quick] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap
import time

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402

MLP = {"name": "mlp", "input": {"shape": [64]}, "model": [
    {"type": "Dense", "units": 128}, "relu", {"type": "Dense", "units": 64}, "relu", {"type": "Dense", "units": 10}],
    "train": {"optimizer": {"type": "adam", "lr": 1e-3}, "batch_size": 64, "threads": 1}}
CNN = {"name": "cnn", "input": {"shape": [8, 8, 1]}, "model": [
    {"type": "Conv2D", "filters": 16, "kernel_size": 3, "padding": "same"}, "relu",
    {"type": "MaxPool2D", "pool_size": 2},
    {"type": "Conv2D", "filters": 32, "kernel_size": 3, "padding": "same"}, "relu",
    {"type": "Flatten"}, {"type": "Dense", "units": 64}, "relu", {"type": "Dense", "units": 10}],
    "train": {"optimizer": {"type": "adam", "lr": 1e-3}, "batch_size": 64, "threads": 1}}


def batches(spec, n_batches: int, bs: int = 64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n_batches * bs, *spec.input_shape)).astype("float32")
    y = rng.integers(0, 10, size=n_batches * bs).astype("int64")
    return x, y, [(x[i:i + bs], y[i:i + bs]) for i in range(0, len(x), bs)]


def median_rate(fns: dict, reps: int) -> dict:
    """Interleave the candidates rep by rep; steps per second, median over reps."""
    rates = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            steps, t = fn()
            rates[k].append(steps / t)
    return {k: statistics.median(v) for k, v in rates.items()}


# ---------------------------------------------------------------------------------- torch
def torch_native(kind: str):
    import torch
    from torch import nn

    if kind == "mlp":
        return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.Flatten(),
                         nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))


def bench_torch(spec_dict: dict, n_batches: int, reps: int) -> dict:
    import torch

    import xnn
    from xnn.backends import get
    from xnn.backends.torch.train import Trainer

    torch.set_num_threads(1)
    spec = xnn.from_dict(spec_dict)
    _, _, bl = batches(spec, n_batches)
    model = get("torch").build(spec)
    tr = Trainer(spec, model, "float32", steps_per_epoch=len(bl))
    native = torch_native(spec.name)
    opt = torch.optim.Adam(native.parameters(), lr=1e-3)
    lossf = torch.nn.CrossEntropyLoss()
    # a native user keeps images channels-first
    nbl = [(xb.transpose(0, 3, 1, 2).copy() if xb.ndim == 4 else xb, yb) for xb, yb in bl]

    def run_xnn():
        t = time.perf_counter()
        for xb, yb in bl:
            tr.train_step(xb, yb)
        return len(bl), time.perf_counter() - t

    def run_native():
        native.train()
        t = time.perf_counter()
        for xb, yb in nbl:
            xt, yt = torch.as_tensor(xb), torch.as_tensor(yb)
            opt.zero_grad(set_to_none=True)
            loss = lossf(native(xt), yt)
            loss.backward()
            opt.step()
            loss.item()
        return len(nbl), time.perf_counter() - t

    run_xnn(), run_native()  # warm-up
    r = median_rate({"xnn": run_xnn, "native": run_native}, reps)
    return {"xnn_steps_s": r["xnn"], "native_steps_s": r["native"], "ratio": r["xnn"] / r["native"]}


# ---------------------------------------------------------------------------------- keras
def keras_native(kind: str):
    import keras

    L = keras.layers
    if kind == "mlp":
        return keras.Sequential([keras.Input((64,)), L.Dense(128, activation="relu"), L.Dense(64, activation="relu"), L.Dense(10)])
    return keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(16, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                             L.Conv2D(32, 3, padding="same", activation="relu"), L.Flatten(),
                             L.Dense(64, activation="relu"), L.Dense(10)])


def bench_keras(spec_dict: dict, n_batches: int, reps: int) -> dict:
    import keras
    import tensorflow as tf

    import xnn
    from xnn.backends import get
    from xnn.backends.keras.train import Trainer

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    spec = xnn.from_dict(spec_dict)
    x, y, bl = batches(spec, n_batches)
    model = get("keras").build(spec)
    tr = Trainer(spec, model, "float32", steps_per_epoch=len(bl))
    native = keras_native(spec.name)
    native.compile(optimizer=keras.optimizers.Adam(1e-3, epsilon=1e-8),
                   loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    def run_xnn():
        t = time.perf_counter()
        for xb, yb in bl:
            tr.train_step(xb, yb)
        return len(bl), time.perf_counter() - t

    def run_fit():
        t = time.perf_counter()
        native.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0)
        return len(bl), time.perf_counter() - t

    run_xnn(), run_fit()
    r = median_rate({"xnn": run_xnn, "fit": run_fit}, reps)
    return {"xnn_steps_s": r["xnn"], "fit_steps_s": r["fit"], "ratio": r["xnn"] / r["fit"]}


# ---------------------------------------------------------------------------------- keras-on-torch
KERAS_TORCH = textwrap.dedent("""
    import os, sys, time, statistics, json
    os.environ["KERAS_BACKEND"] = "torch"
    import numpy as np, torch, keras
    torch.set_num_threads(1)
    n, reps = int(sys.argv[1]), int(sys.argv[2])
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n * 64, 64)).astype("float32"); y = rng.integers(0, 10, n * 64)
    L = keras.layers
    m = keras.Sequential([keras.Input((64,)), L.Dense(128, activation="relu"), L.Dense(64, activation="relu"), L.Dense(10)])
    m.compile(optimizer=keras.optimizers.Adam(1e-3), loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    m.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0)
    rates = []
    for _ in range(reps):
        t = time.perf_counter(); m.fit(x, y, batch_size=64, epochs=1, shuffle=False, verbose=0)
        rates.append(n / (time.perf_counter() - t))
    print(json.dumps({"steps_s": statistics.median(rates), "backend": keras.backend.backend()}))
""")


def bench_keras_on_torch(n_batches: int, reps: int) -> dict:
    env = {**os.environ, "KERAS_BACKEND": "torch"}
    out = subprocess.run([sys.executable, "-c", KERAS_TORCH, str(n_batches), str(reps)], env=env,
                         capture_output=True, text=True, timeout=900)
    if out.returncode != 0:
        raise SystemExit(f"keras-on-torch run failed:\n{out.stderr[-2000:]}")
    kt = json.loads(out.stdout.strip().splitlines()[-1])
    xt = bench_torch(MLP, n_batches, reps)
    return {"keras_on_torch_steps_s": kt["steps_s"], "xnn_torch_steps_s": xt["xnn_steps_s"],
            "speedup": xt["xnn_steps_s"] / kt["steps_s"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", metavar="FILE")
    a = ap.parse_args()
    nb, reps = (8, 2) if a.quick else (60, 7)
    res = {
        "torch_mlp": bench_torch(MLP, nb, reps),
        "torch_cnn": bench_torch(CNN, nb, reps),
        "keras_mlp": bench_keras(MLP, nb, reps),
        "keras_cnn": bench_keras(CNN, nb, reps),
        "xnn_torch_vs_keras_on_torch_mlp": bench_keras_on_torch(nb, reps),
    }
    print(f"{'benchmark':<34}{'xnn steps/s':>13}{'peer steps/s':>14}{'ratio':>8}")
    for k, v in res.items():
        xs = v.get("xnn_steps_s", v.get("xnn_torch_steps_s"))
        peer = v.get("native_steps_s", v.get("fit_steps_s", v.get("keras_on_torch_steps_s")))
        ratio = v.get("ratio", v.get("speedup"))
        print(f"{k:<34}{xs:>13.1f}{peer:>14.1f}{ratio:>8.3f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
