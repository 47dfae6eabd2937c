"""The epoch loop of a parallel run, shared by every backend and mode.

An *engine* (torch DDP, torch pipeline, Keras MirroredStrategy...) provides one optimizer step on
a **global** batch (it shards it itself) plus weights and optimizer state as canonical NumPy.
This loop owns the batch order (``xnn.data.batches``: the single-process order), checkpoints and
resume, so every engine stops and resumes at the same step boundaries.

Checkpoints: ``<out>/checkpoints/ckpt-<step>.safetensors`` holding ``<node>.<param>`` weights and
``opt.<key>`` optimizer state, metadata ``epoch``/``batch``/``step``; written atomically by the
chief after every ``checkpoint_every`` epochs and every ``checkpoint_steps`` steps, then a barrier,
so all ranks agree on the last checkpoint. Resume takes the newest readable checkpoint (a corrupt
newest one falls back to the previous).
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from ..errors import FormatError, TrainingError


class Engine(Protocol):
    rank: int
    world: int

    def train_step(self, xb: np.ndarray, yb: np.ndarray) -> float: ...
    def get_params(self) -> dict[str, np.ndarray]: ...
    def set_params(self, params: dict[str, np.ndarray]) -> None: ...
    def optimizer_state(self) -> dict[str, np.ndarray]: ...
    def load_optimizer_state(self, state: dict[str, np.ndarray]) -> None: ...
    def evaluate(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]: ...  # every rank calls; rank 0 answers
    def barrier(self) -> None: ...


def _ckpt_dir(out: Path) -> Path:
    return Path(out) / "checkpoints"


def save_checkpoint(out: Path, step: int, epoch: int, batch: int, params: dict, opt: dict, keep: int = 3) -> Path:
    """Atomic write of one checkpoint; keeps the newest ``keep``."""
    from ..weights import save_weights

    d = _ckpt_dir(out)
    d.mkdir(parents=True, exist_ok=True)
    arrays = {**{k: np.asarray(v) for k, v in params.items()}, **{f"opt.{k}": np.asarray(v) for k, v in opt.items()}}
    path = d / f"ckpt-{step:09d}.safetensors"
    save_weights(path, arrays, {"epoch": epoch, "batch": batch, "step": step})
    for old in sorted(d.glob("ckpt-*.safetensors"))[:-keep]:
        old.unlink(missing_ok=True)
    return path


def load_latest(out: Path) -> tuple[dict, dict, dict] | None:
    """(params, optimizer state, meta) of the newest readable checkpoint, None when there is none."""
    from safetensors import safe_open

    d = _ckpt_dir(out)
    errors = []
    for path in sorted(d.glob("ckpt-*.safetensors"), reverse=True):
        try:
            with safe_open(str(path), framework="numpy") as f:
                meta = {k: int(v) for k, v in (f.metadata() or {}).items()}
                arrays = {k: f.get_tensor(k) for k in f.keys()}
            params = {k: v for k, v in arrays.items() if not k.startswith("opt.")}
            opt = {k[4:]: v for k, v in arrays.items() if k.startswith("opt.")}
            return params, opt, meta
        except Exception as e:  # noqa: BLE001 - a corrupt file: fall back to the previous one
            errors.append(f"{path.name}: {type(e).__name__}")
    if errors:
        raise FormatError(f"{d}: no readable checkpoint ({'; '.join(errors)})")
    return None


def finish_run(out: str | Path, spec, backend: str, data, params: dict[str, np.ndarray], metrics: dict,
               world: int) -> None:
    """Write the run folder like a single-process run (spec.yaml, manifest.json, metrics.json,
    weights.safetensors) so ``xnn predict/evaluate/export`` read it; the manifest adds the
    parallel setup."""
    from ..train.run import manifest, write_run_files

    man = manifest(spec, backend, getattr(data, "data_hash", None))
    man["parallel"] = {**spec.parallel.model_dump(mode="json"), "processes": world}
    pre = getattr(data, "preprocess", None)
    if pre is not None and hasattr(pre, "to_dict"):  # a run folder predicts without its training data
        man["preprocess"] = pre.to_dict()
    man["status"] = "finished"
    write_run_files(out, spec, man, metrics, params)


def run(spec, data, engine: Engine, out: str | Path | None, max_steps: int | None = None, resume: bool = True,
        checkpoint_steps: int | None = None, progress: Callable[[str], None] | None = None,
        after_step: Callable[[int], None] | None = None, backend: str = "torch") -> dict:
    """Train ``engine`` for ``spec.train.epochs`` (or ``max_steps``) over ``data.train``.

    Returns a summary ``{"steps", "loss", "history", "seconds"}``; the chief writes the run folder
    (:func:`finish_run`).
    """
    from ..data import batches, n_batches

    tr = spec.train
    x, y = data.train
    spe = n_batches(len(x), tr.batch_size)
    out_p = Path(out) if out is not None else None
    start_epoch, start_batch, step = 0, 0, 0
    if out_p is not None and resume:
        got = load_latest(out_p)
        if got is not None:
            params, opt, meta = got
            engine.set_params(params)
            engine.load_optimizer_state(opt)
            start_epoch, start_batch, step = meta["epoch"], meta["batch"], meta["step"]
            if progress:
                progress(f"resumed from step {step} (epoch {start_epoch}, batch {start_batch})")
    history: list[dict] = []
    t0 = time.perf_counter()
    last = float("nan")
    done = False
    for epoch in range(start_epoch, tr.epochs):
        losses = []
        for b, (xb, yb) in enumerate(batches(x, y, tr.batch_size, tr.seed, epoch, spec.data.shuffle,
                                             augment=spec.data.augment)):
            if epoch == start_epoch and b < start_batch:
                continue
            last = engine.train_step(xb, yb)
            if not np.isfinite(last):
                raise TrainingError(f"loss is {last} at step {step} (epoch {epoch}); the last good checkpoint is kept")
            losses.append(last)
            step += 1
            if after_step:
                after_step(step)
            end_of_epoch = b == spe - 1
            if out_p is not None and checkpoint_steps and step % checkpoint_steps == 0 and not end_of_epoch:
                _checkpoint(engine, out_p, step, epoch, b + 1)
            if max_steps is not None and step >= max_steps:
                done = True
                break
        if done:
            break
        rec = {"epoch": epoch, "loss": float(np.mean(losses)) if losses else float("nan")}
        if len(data.val[0]):  # every rank calls: some engines gather weights with collectives
            rec.update({f"val_{k}": v for k, v in engine.evaluate(*data.val).items()})
        history.append(rec)
        if progress and engine.rank == 0:
            progress(json.dumps(rec))
        if out_p is not None and (epoch + 1) % tr.checkpoint_every == 0:
            _checkpoint(engine, out_p, step, epoch + 1, 0)
    secs = time.perf_counter() - t0
    summary = {"steps": step, "loss": last, "history": history, "seconds": secs}
    final = engine.get_params()  # every rank: some engines gather stages with collectives
    if engine.rank == 0 and out_p is not None:
        finish_run(out_p, spec, backend, data, final, summary, engine.world)
    engine.barrier()
    return summary


def _checkpoint(engine: Engine, out: Path, step: int, epoch: int, batch: int) -> None:
    # every rank computes the state (some engines gather it with collectives), the chief writes
    params, opt = engine.get_params(), engine.optimizer_state()
    if engine.rank == 0:
        save_checkpoint(out, step, epoch, batch, params, opt)
    engine.barrier()
