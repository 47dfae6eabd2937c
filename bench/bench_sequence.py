"""Sequence-model training throughput: xnn-compiled models vs the same models hand-written
natively, measured side by side in one run (interleaved repetitions, median), one thread.

- torch, LSTM / GRU (digits_lstm's shape: 8 steps x 8 features, 64 units, last state -> Dense 10,
  batch 32): xnn's Trainer vs a hand-written ``nn.LSTM``/``nn.GRU`` + ``nn.Linear`` with
  ``torch.optim.Adam`` and ``CrossEntropyLoss`` on the same batches. Target >= 0.97.
- torch, masked LSTM: right-padded input -> SequenceMask -> LSTM; the hand-written model derives
  lengths from the padding and uses ``pack_padded_sequence``. Target >= 0.97.
- keras, the same three models: xnn's compiled step vs Keras ``fit`` on a hand-written
  ``keras.Sequential`` (``Masking`` for the padded case), Adam(epsilon=1e-8). Target >= 0.97.
- torch, TransformerEncoderBlock (tiny_transformer's sizes: T=12, E=32, 4 heads, MLP 64,
  pre-norm, GELU) -> GlobalAvgPool1D -> Dense 10, batch 64, vs a hand-written pre-norm block with
  a fused qkv projection and ``F.scaled_dot_product_attention``; unmasked and with a padding
  mask (boolean ``attn_mask``, masked mean pooling). Target >= 0.97.

    python bench/bench_sequence.py [--quick] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from typing import Callable

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402

T, F_IN, UNITS, CLASSES = 8, 8, 64, 10  # digits_lstm: rows of an 8x8 digit as 8 steps
TT, E, HEADS, MLP = 12, 32, 4, 64  # tiny_transformer's block
TRAIN = {"optimizer": {"type": "adam", "lr": 1e-3}, "batch_size": 32, "threads": 1}


def rnn_spec(cell: str, masked: bool) -> dict:
    """xnn spec of the RNN cases; the masked one reads a right-padded input through SequenceMask."""
    model: list[dict] = []
    rnn = {"type": cell, "name": "rnn", "units": UNITS, "output": "last"}
    if masked:
        model.append({"type": "SequenceMask", "name": "mask", "pad_value": 0})
        rnn["inputs"] = ["input", "mask"]
    model += [rnn, {"type": "Dense", "name": "logits", "units": CLASSES}]
    return {"name": f"{cell.lower()}{'_masked' if masked else ''}", "input": {"shape": [T, F_IN]},
            "model": model, "train": TRAIN}


def transformer_spec(masked: bool) -> dict:
    block = {"type": "TransformerEncoderBlock", "name": "block", "num_heads": HEADS, "mlp_dim": MLP, "norm": "pre"}
    if masked:
        model = [{"type": "SequenceMask", "name": "mask", "pad_value": 0}, {**block, "inputs": ["input", "mask"]},
                 {"type": "MaskedGlobalAvgPool1D", "name": "pool", "inputs": ["block", "mask"]}]
    else:
        model = [block, {"type": "GlobalAvgPool1D", "name": "pool"}]
    model.append({"type": "Dense", "name": "logits", "units": CLASSES})
    return {"name": f"transformer{'_masked' if masked else ''}", "input": {"shape": [TT, E]}, "model": model,
            "train": {**TRAIN, "batch_size": 64}}


def batches(shape: tuple[int, ...], n_batches: int, bs: int, masked: bool) -> tuple[np.ndarray, np.ndarray, list]:
    """Seeded float32 sequences; with ``masked`` each sample keeps 1..T steps, the rest zeros."""
    rng = np.random.default_rng(0)
    n = n_batches * bs
    x = rng.normal(size=(n, *shape)).astype("float32")
    if masked:
        lengths = rng.integers(1, shape[0] + 1, size=n)
        x[np.arange(shape[0])[None, :] >= lengths[:, None]] = 0.0
    y = rng.integers(0, CLASSES, size=n).astype("int64")
    return x, y, [(x[i:i + bs], y[i:i + bs]) for i in range(0, n, bs)]


def median_rate(fns: dict[str, Callable[[], int]], reps: int) -> dict[str, tuple[float, float]]:
    """Interleave the candidates rep by rep; (wall, CPU) steps per second, medians over reps.

    The CPU-time rate (this process's CPU seconds) is reported too because on a shared machine
    wall time also counts the time the scheduler gave to other processes.
    """
    rates: dict[str, list[tuple[float, float]]] = {k: [] for k in fns}
    for _ in range(reps):
        for k, fn in fns.items():
            t, c = time.perf_counter(), time.process_time()
            steps = fn()
            rates[k].append((steps / (time.perf_counter() - t), steps / max(time.process_time() - c, 1e-9)))
    return {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)) for k, v in rates.items()}


def result(r: dict[str, tuple[float, float]], peer: str) -> dict[str, float]:
    (xw, xc), (pw, pc) = r["xnn"], r[peer]
    return {"xnn_steps_s": xw, "peer_steps_s": pw, "ratio": xw / pw,
            "xnn_cpu_steps_s": xc, "peer_cpu_steps_s": pc, "cpu_ratio": xc / pc}


# ---------------------------------------------------------------------------------- torch
def torch_rnn_native(cell: str, masked: bool):
    import torch
    from torch import nn
    from torch.nn.utils.rnn import pack_padded_sequence

    class Native(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = (nn.LSTM if cell == "LSTM" else nn.GRU)(F_IN, UNITS, batch_first=True)
            self.head = nn.Linear(UNITS, CLASSES)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            if masked:  # what a native user writes: lengths from the right padding, then pack
                lengths = (x != 0).any(dim=-1).sum(dim=1)
                x = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
            _, h = self.rnn(x)
            h = h[0] if isinstance(h, tuple) else h
            return self.head(h[-1])

    return Native()


def torch_block_native(masked: bool):
    import torch
    from torch import nn
    from torch.nn import functional as F

    class Native(nn.Module):
        """Pre-norm encoder block (fused qkv, SDPA, GELU MLP, residuals) -> mean pool -> Linear."""

        def __init__(self) -> None:
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(E), nn.LayerNorm(E)
            self.qkv, self.proj = nn.Linear(E, 3 * E), nn.Linear(E, E)
            self.fc1, self.fc2 = nn.Linear(E, MLP), nn.Linear(MLP, E)
            self.head = nn.Linear(E, CLASSES)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            n, t, _ = x.shape
            valid = (x != 0).any(dim=-1) if masked else None  # (N, T); every sample has a valid step
            q, k, v = self.qkv(self.ln1(x)).view(n, t, 3, HEADS, E // HEADS).permute(2, 0, 3, 1, 4)
            a = F.scaled_dot_product_attention(q, k, v, attn_mask=valid[:, None, None, :] if masked else None)
            h = x + self.proj(a.transpose(1, 2).reshape(n, t, E))
            h = h + self.fc2(F.gelu(self.fc1(self.ln2(h))))
            if masked:
                m = valid[:, :, None].to(h.dtype)
                return self.head((h * m).sum(dim=1) / m.sum(dim=1))
            return self.head(h.mean(dim=1))

    return Native()


def bench_torch(spec_dict: dict, native_fn: Callable, masked: bool, n_batches: int, reps: int) -> dict:
    import torch

    import xnn
    from xnn.backends import get
    from xnn.backends.torch.train import Trainer

    torch.set_num_threads(1)
    spec = xnn.from_dict(spec_dict)
    _, _, bl = batches(spec.input_shape, n_batches, spec.train.batch_size, masked)
    model = get("torch").build(spec)
    tr = Trainer(spec, model, "float32", steps_per_epoch=len(bl))
    native = native_fn()
    opt = torch.optim.Adam(native.parameters(), lr=1e-3)
    lossf = torch.nn.CrossEntropyLoss()

    def run_xnn() -> int:
        for xb, yb in bl:
            tr.train_step(xb, yb)
        return len(bl)

    def run_native() -> int:
        native.train()
        for xb, yb in bl:
            xt, yt = torch.as_tensor(xb), torch.as_tensor(yb)
            opt.zero_grad(set_to_none=True)
            loss = lossf(native(xt), yt)
            loss.backward()
            opt.step()
            loss.item()
        return len(bl)

    run_xnn(), run_native()  # warm-up
    r = median_rate({"xnn": run_xnn, "native": run_native}, reps)
    return result(r, "native")


# ---------------------------------------------------------------------------------- keras
def keras_rnn_native(cell: str, masked: bool):
    import keras

    L = keras.layers
    layers = [keras.Input((T, F_IN))]
    if masked:
        layers.append(L.Masking(0.0))
    layers += [(L.LSTM if cell == "LSTM" else L.GRU)(UNITS), L.Dense(CLASSES)]
    return keras.Sequential(layers)


def bench_keras(spec_dict: dict, cell: str, masked: bool, n_batches: int, reps: int) -> dict:
    import keras
    import tensorflow as tf

    import xnn
    from xnn.backends import get
    from xnn.backends.keras.train import Trainer

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    spec = xnn.from_dict(spec_dict)
    bs = spec.train.batch_size
    x, y, bl = batches(spec.input_shape, n_batches, bs, masked)
    model = get("keras").build(spec)
    tr = Trainer(spec, model, "float32", steps_per_epoch=len(bl))
    native = keras_rnn_native(cell, masked)
    native.compile(optimizer=keras.optimizers.Adam(1e-3, epsilon=1e-8),
                   loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))

    def run_xnn() -> int:
        for xb, yb in bl:
            tr.train_step(xb, yb)
        return len(bl)

    def run_fit() -> int:
        native.fit(x, y, batch_size=bs, epochs=1, shuffle=False, verbose=0)
        return len(bl)

    run_xnn(), run_fit()  # warm-up (traces both)
    r = median_rate({"xnn": run_xnn, "fit": run_fit}, reps)
    return result(r, "fit")


CASES: dict[str, tuple[str, Callable[[int, int], dict]]] = {
    "torch_lstm": ("nn.LSTM", lambda nb, reps: bench_torch(
        rnn_spec("LSTM", False), lambda: torch_rnn_native("LSTM", False), False, nb, reps)),
    "torch_gru": ("nn.GRU", lambda nb, reps: bench_torch(
        rnn_spec("GRU", False), lambda: torch_rnn_native("GRU", False), False, nb, reps)),
    "torch_lstm_masked": ("nn.LSTM + pack_padded", lambda nb, reps: bench_torch(
        rnn_spec("LSTM", True), lambda: torch_rnn_native("LSTM", True), True, nb, reps)),
    "keras_lstm": ("keras LSTM fit", lambda nb, reps: bench_keras(rnn_spec("LSTM", False), "LSTM", False, nb, reps)),
    "keras_gru": ("keras GRU fit", lambda nb, reps: bench_keras(rnn_spec("GRU", False), "GRU", False, nb, reps)),
    "keras_lstm_masked": ("keras Masking+LSTM fit", lambda nb, reps: bench_keras(
        rnn_spec("LSTM", True), "LSTM", True, nb, reps)),
    "torch_transformer": ("SDPA block", lambda nb, reps: bench_torch(
        transformer_spec(False), lambda: torch_block_native(False), False, nb, reps)),
    "torch_transformer_masked": ("SDPA block + attn_mask", lambda nb, reps: bench_torch(
        transformer_spec(True), lambda: torch_block_native(True), True, nb, reps)),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smoke run: few batches, one repetition")
    ap.add_argument("--json", metavar="FILE")
    ap.add_argument("--only", nargs="*", choices=list(CASES), help="run a subset of the cases")
    a = ap.parse_args()
    nb, reps = (4, 1) if a.quick else (50, 9)
    res = {}
    for name in a.only or CASES:
        peer, fn = CASES[name]
        res[name] = {"peer": peer, **fn(nb, reps)}
    print(f"{'benchmark':<27}{'peer':<24}{'xnn steps/s':>12}{'peer steps/s':>14}{'ratio':>8}{'cpu ratio':>11}")
    for k, v in res.items():
        print(f"{k:<27}{v['peer']:<24}{v['xnn_steps_s']:>12.1f}{v['peer_steps_s']:>14.1f}{v['ratio']:>8.3f}"
              f"{v['cpu_ratio']:>11.3f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"batches": nb, "reps": reps, "threads": 1, "results": res}, f, indent=2)


if __name__ == "__main__":
    main()
