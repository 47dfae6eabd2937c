"""Training speed against the strongest hand-written peers, eager and compiled, in one run.

Keras: xnn's Keras engine step (``LocalEngine`` on the Keras ``Trainer``: what ``fit`` calls per
step, with its per-step loss for the NaN stop) and ``Trainer.evaluate`` vs Keras ``fit`` (with
``validation_data``) vs a hand-written ``tf.function`` loop (GradientTape, ``keras.optimizers.Adam``,
a traced evaluation step), without and with XLA (``jit_compile=True``; xnn: ``train.compile``).
torch: xnn's torch engine step vs a hand-written eager loop (``torch.optim.Adam``,
``CrossEntropyLoss``, channels-first input) and, with ``--torch-compile``, both under
torch.compile (slow to compile on a small CPU: minutes).

Two models: digits (8x8x1: conv16-pool-conv32-dense64-dense10) and 32x32x3 (conv32, conv64/2,
conv128/2, global average pool, dense10). Batch 32 (the last batch partial), Adam lr 1e-3, one
thread. Figures per candidate:

- ``e2e``: wall time of a fresh model's whole run (build, tracing/compiling, every epoch with a
  validation pass), median over repetitions; ratios are peer time / xnn time (>1: xnn faster);
- ``step``: median ms per warm training step (interleaved repetitions of one epoch);
- ``first``: the first epoch's extra time over a warm one (tracing, compiling).

    python bench/bench_compile.py [--quick] [--torch-compile] [--cpu-time] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import torch  # noqa: E402,F401  (torch before tensorflow in one process)

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TRAIN = {"optimizer": {"type": "adam", "lr": 1e-3}, "batch_size": 32, "threads": 1, "metrics": []}
DIGITS = {"name": "digits", "input": {"shape": [8, 8, 1]}, "model": [
    {"type": "Conv2D", "filters": 16, "kernel_size": 3, "padding": "same"}, "relu",
    {"type": "MaxPool2D", "pool_size": 2},
    {"type": "Conv2D", "filters": 32, "kernel_size": 3, "padding": "same"}, "relu",
    {"type": "Flatten"}, {"type": "Dense", "units": 64}, "relu", {"type": "Dense", "units": 10}], "train": TRAIN}
C32 = {"name": "c32", "input": {"shape": [32, 32, 3]}, "model": [
    {"type": "Conv2D", "filters": 32, "kernel_size": 3, "padding": "same"}, "relu",
    {"type": "Conv2D", "filters": 64, "kernel_size": 3, "strides": 2, "padding": "same"}, "relu",
    {"type": "Conv2D", "filters": 128, "kernel_size": 3, "strides": 2, "padding": "same"}, "relu",
    {"type": "GlobalAvgPool2D"}, {"type": "Dense", "units": 10}], "train": TRAIN}
BS = 32


def data(shape, n_train: int, n_val: int):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n_train + n_val, *shape)).astype("float32")
    y = rng.integers(0, 10, size=n_train + n_val).astype("int64")
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def batches(x, y):
    return [(x[i:i + BS], y[i:i + BS]) for i in range(0, len(x), BS)]


# ------------------------------------------------------------------------------ candidates
# Each candidate: make() -> (epoch_train(), evaluate()) on a fresh model.
def keras_native_model(name: str):
    import keras

    L = keras.layers
    if name == "digits":
        return keras.Sequential([keras.Input((8, 8, 1)), L.Conv2D(16, 3, padding="same", activation="relu"),
                                 L.MaxPooling2D(2), L.Conv2D(32, 3, padding="same", activation="relu"), L.Flatten(),
                                 L.Dense(64, activation="relu"), L.Dense(10)])
    return keras.Sequential([keras.Input((32, 32, 3)), L.Conv2D(32, 3, padding="same", activation="relu"),
                             L.Conv2D(64, 3, strides=2, padding="same", activation="relu"),
                             L.Conv2D(128, 3, strides=2, padding="same", activation="relu"),
                             L.GlobalAveragePooling2D(), L.Dense(10)])


def xnn_maker(spec_dict, backend: str, compile_: bool, d):
    import xnn
    from xnn.backends import get
    from xnn.train.engine import LocalEngine

    def make():
        train = {**spec_dict["train"], **({"compile": True} if compile_ else {})}
        spec = xnn.from_dict({**spec_dict, "train": train})
        be = get(backend)
        model = be.build(spec)
        mod = __import__(f"xnn.backends.{backend}.train", fromlist=["Trainer"])
        bl = batches(d[0], d[1])
        eng = LocalEngine(spec, be, model, mod.Trainer(spec, model, "float32", steps_per_epoch=len(bl)))

        def epoch():
            for xb, yb in bl:
                for s in eng.train_step(xb, yb):  # fit's per-step NaN check needs the loss
                    if not np.isfinite(s.loss):
                        raise RuntimeError("nan")

        return epoch, lambda: eng.evaluate(d[2], d[3])["loss"]
    return make


def keras_fit_maker(name, d, build=None):
    """Keras ``fit`` on ``build()`` (default: the hand-written model ``name``)."""
    import keras

    def make():
        m = build() if build else keras_native_model(name)
        m.compile(optimizer=keras.optimizers.Adam(1e-3, epsilon=1e-8),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
        return (lambda: m.fit(d[0], d[1], batch_size=BS, epochs=1, shuffle=False, verbose=0),
                lambda: m.evaluate(d[2], d[3], batch_size=256, verbose=0))
    return make


def keras_loop_maker(name, d, jit: bool, build=None):
    """A hand-written ``tf.function`` loop on ``build()`` (default: the hand-written model ``name``)."""
    import keras
    import tensorflow as tf

    def make():
        m = build() if build else keras_native_model(name)
        opt = keras.optimizers.Adam(1e-3, epsilon=1e-8)
        lossf = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction="sum_over_batch_size")

        @tf.function(jit_compile=jit, reduce_retracing=True)
        def step(x, y):
            with tf.GradientTape() as tape:
                loss = lossf(y, m(x, training=True))
            g = tape.gradient(loss, m.trainable_variables)
            opt.apply_gradients(zip(g, m.trainable_variables))
            return loss

        @tf.function(jit_compile=jit, reduce_retracing=True)
        def eval_step(x, y):
            return lossf(y, m(x, training=False)) * tf.cast(tf.shape(x)[0], tf.float32)

        bl = [(tf.constant(xb), tf.constant(yb)) for xb, yb in batches(d[0], d[1])]
        vl = [(tf.constant(d[2][i:i + 256]), tf.constant(d[3][i:i + 256])) for i in range(0, len(d[2]), 256)]

        def epoch():
            for xb, yb in bl:
                if not np.isfinite(float(step(xb, yb))):  # the same per-step NaN check as xnn's
                    raise RuntimeError("nan")

        return epoch, lambda: sum(float(eval_step(x, y)) for x, y in vl) / len(d[2])
    return make


def torch_native_model(name: str):
    from torch import nn

    if name == "digits":
        return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.Flatten(),
                             nn.Linear(32 * 4 * 4, 64), nn.ReLU(), nn.Linear(64, 10))
    return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
                         nn.Conv2d(64, 128, 3, stride=2, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                         nn.Linear(128, 10))


def torch_loop_maker(name, d, compile_: bool, build=None):
    """A hand-written eager (or compiled) torch loop on ``build()`` (default: the model ``name``)."""
    import torch

    def make():
        m = build() if build else torch_native_model(name)
        opt = torch.optim.Adam(m.parameters(), lr=1e-3)
        lossf = torch.nn.CrossEntropyLoss()

        def fwd(x, y):
            return lossf(m(x), y)

        f = torch.compile(fwd) if compile_ else fwd
        bl = [(torch.from_numpy(xb.transpose(0, 3, 1, 2).copy()), torch.from_numpy(yb)) for xb, yb in batches(d[0], d[1])]
        xv, yv = torch.from_numpy(d[2].transpose(0, 3, 1, 2).copy()), torch.from_numpy(d[3])

        def epoch():
            m.train()
            for xb, yb in bl:
                opt.zero_grad(set_to_none=True)
                loss = f(xb, yb)
                loss.backward()
                opt.step()
                if not np.isfinite(loss.item()):
                    raise RuntimeError("nan")

        def evaluate():
            m.eval()
            with torch.no_grad():
                return sum(float(lossf(m(xv[i:i + 256]), yv[i:i + 256])) * len(yv[i:i + 256])
                           for i in range(0, len(yv), 256)) / len(yv)
        return epoch, evaluate
    return make


# ------------------------------------------------------------------------------ timing
CLOCK = time.perf_counter  # --cpu-time: CPU seconds of this process and its compilers


def _cpu_seconds() -> float:
    t = os.times()  # children: the C++ compiler runs torch.compile starts (waited for)
    return time.process_time() + t.children_user + t.children_system  # process_time: ns resolution


def use_cpu_time() -> None:
    """Time with CPU seconds (this process and the compiler processes it waited for): with one
    thread per framework it counts this run's work only, so other jobs on a shared machine move
    it far less than the wall clock. torch.compile then compiles in this process
    (TORCHINDUCTOR_COMPILE_THREADS=1) so that its work is counted too."""
    global CLOCK
    os.environ.setdefault("TORCHINDUCTOR_COMPILE_THREADS", "1")
    CLOCK = _cpu_seconds


def measure(makers: dict, epochs: int, reps: int, step_reps: int, n_steps: int) -> dict:
    """End to end (fresh model each repetition, interleaved) and warm per-step times (CLOCK)."""
    e2e = {k: [] for k in makers}
    first = {k: [] for k in makers}
    warm = {k: [] for k in makers}
    live = {}
    for _ in range(reps):
        for k, make in makers.items():
            t0 = CLOCK()
            epoch, evaluate = make()
            t_ep = []
            for _ in range(epochs):
                t = CLOCK()
                epoch()
                evaluate()
                t_ep.append(CLOCK() - t)
            e2e[k].append(CLOCK() - t0)
            first[k].append(t_ep[0] - statistics.median(t_ep[1:]) if epochs > 1 else float("nan"))
            live[k] = epoch
    for _ in range(step_reps):
        for k, epoch in live.items():
            t = CLOCK()
            epoch()
            warm[k].append((CLOCK() - t) / n_steps)
    return {k: {"e2e_s": statistics.median(e2e[k]), "first_extra_s": statistics.median(first[k]),
                "step_ms": 1e3 * statistics.median(warm[k])} for k in makers}


RATIOS = [  # (label, xnn candidate, peer candidate)
    ("xnn keras / keras fit", "xnn_keras", "keras_fit"),
    ("xnn keras / tf.function loop", "xnn_keras", "tf_loop"),
    ("xnn keras XLA / tf.function XLA loop", "xnn_keras_xla", "tf_loop_xla"),
    ("xnn keras XLA / xnn keras", "xnn_keras_xla", "xnn_keras"),
    ("xnn torch / torch eager loop", "xnn_torch", "torch_loop"),
    ("xnn torch.compile / torch.compile loop", "xnn_torch_compile", "torch_loop_compile"),
    ("xnn torch.compile / xnn torch", "xnn_torch_compile", "xnn_torch"),
]


def one_thread() -> None:
    """Both frameworks on one thread (before TensorFlow runs anything)."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    torch.set_num_threads(1)


def load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="tiny data, one repetition (smoke run)")
    ap.add_argument("--torch-compile", action="store_true", help="also time torch.compile (minutes of compiling on CPU)")
    ap.add_argument("--no-xla", action="store_true", help="skip the XLA candidates")
    ap.add_argument("--cpu-time", action="store_true", help="time CPU seconds of this process, not wall time "
                    "(steadier on a shared machine; everything runs on one thread)")
    ap.add_argument("--json", metavar="FILE")
    a = ap.parse_args()
    if a.cpu_time:
        use_cpu_time()
    one_thread()
    warnings.simplefilter("ignore", RuntimeWarning)
    n_train, n_val, epochs, reps, step_reps = (100, 64, 2, 1, 1) if a.quick else (1000, 512, 3, 3, 5)
    load = load_average()
    print(f"load average {load:.2f}; {'CPU' if a.cpu_time else 'wall'} time; batch {BS}, {n_train} training samples ({-(-n_train // BS)} steps, last partial), "
          f"{n_val} validation, {epochs} epochs, medians of {reps} end-to-end and {step_reps} warm repetitions")
    res = {"load_average": load, "quick": a.quick, "clock": "cpu" if a.cpu_time else "wall", "models": {}}
    for spec in (DIGITS, C32):
        name = spec["name"]
        d = data(spec["input"]["shape"], n_train, n_val)
        makers = {
            "xnn_keras": xnn_maker(spec, "keras", False, d), "keras_fit": keras_fit_maker(name, d),
            "tf_loop": keras_loop_maker(name, d, False),
            "xnn_keras_xla": xnn_maker(spec, "keras", True, d), "tf_loop_xla": keras_loop_maker(name, d, True),
            "xnn_torch": xnn_maker(spec, "torch", False, d), "torch_loop": torch_loop_maker(name, d, False),
        }
        if a.no_xla:
            makers = {k: v for k, v in makers.items() if "xla" not in k}
        for make in makers.values():  # untimed: imports and framework start-up, not the candidates' work
            make()[0]()
        r = measure(makers, epochs, reps, step_reps, -(-n_train // BS))
        if a.torch_compile:  # one repetition: compile time dominates and does not vary with load
            r.update(measure({"xnn_torch_compile": xnn_maker(spec, "torch", True, d),
                              "torch_loop_compile": torch_loop_maker(name, d, True)}, epochs, 1, step_reps,
                             -(-n_train // BS)))
        res["models"][name] = {"candidates": r, "ratios": {}}
        print(f"\n{name}: {'candidate':<20}{'e2e s':>9}{'step ms':>9}{'first-epoch extra s':>21}")
        for k, v in r.items():
            print(f"  {k:<26}{v['e2e_s']:>9.2f}{v['step_ms']:>9.2f}{v['first_extra_s']:>21.2f}")
        print(f"  {'ratio (peer time / xnn time)':<40}{'e2e':>8}{'step':>8}")
        for label, xk, pk in RATIOS:
            if xk in r and pk in r:
                e, s = r[pk]["e2e_s"] / r[xk]["e2e_s"], r[pk]["step_ms"] / r[xk]["step_ms"]
                res["models"][name]["ratios"][label] = {"e2e": e, "step": s}
                print(f"  {label:<40}{e:>7.2f}x{s:>7.2f}x")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
