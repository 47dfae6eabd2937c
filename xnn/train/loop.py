"""xnn's epoch loop, the same for every backend: batches from the seeded NumPy pipeline,
one ``Trainer.train_step`` per batch, per-epoch metrics, validation, early stopping,
checkpoints, NaN stop, Ctrl-C checkpoint, resume.

The backends plug in through ``xnn.backends.<name>.train``: ``configure(train_spec)`` and
``Trainer(spec, model, dtype, steps_per_epoch, class_weights)``.
"""
from __future__ import annotations

import importlib
import math
import os
import signal
import sys
import threading
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from ..errors import DataError, TrainingError
from ..fileio import check_writable
from . import losses as L
from . import run as R

Pair = tuple[np.ndarray, np.ndarray]


@dataclass
class TrainResult:
    """What ``fit`` returns.

    ``history``: one dict per epoch: ``epoch`` (from 1), ``loss`` and each metric on the training
    batches (training mode, batch-size weighted), ``val_loss``/``val_<metric>`` (evaluation mode),
    ``lr`` (of the epoch's last step), ``step`` (optimizer steps so far).
    """

    params: dict[str, np.ndarray]
    history: list[dict]
    test: dict[str, float] | None
    run_dir: Path | None
    best_epoch: int | None = None
    stopped_early: bool = False
    model: Any = field(default=None, repr=False)


@dataclass
class ArrayData:
    """A minimal dataset for ``fit(data=...)``: ``(x, y)`` pairs; val/test optional."""

    train: Pair
    val: Pair | None = None
    test: Pair | None = None
    n_classes: int | None = None
    data_hash: str | None = None


def _as_data(data) -> ArrayData:
    if isinstance(data, (tuple, list)) and data and isinstance(data[0], (tuple, list)):
        parts = list(data) + [None] * (3 - len(data))
        data = ArrayData(*parts[:3])
    tr = getattr(data, "train", None)
    if tr is None or len(tr) != 2:
        raise DataError("data: needs a train split (x, y)")

    def nonempty(p):
        return p if (p is not None and len(p[0]) > 0) else None

    return ArrayData(tuple(tr), nonempty(getattr(data, "val", None)), nonempty(getattr(data, "test", None)),
                     getattr(data, "n_classes", None), getattr(data, "data_hash", None))


def _fallback_batches(x, y, batch_size: int, seed: int, epoch: int, shuffle: bool = True) -> Iterator[Pair]:
    # used only while xnn.data has no ``batches``: a seeded permutation per (seed, epoch),
    # partial last batch kept
    idx = np.random.default_rng([seed, epoch]).permutation(len(x)) if shuffle else np.arange(len(x))
    for i in range(0, len(x), batch_size):
        j = idx[i:i + batch_size]
        yield x[j], y[j]


def _batch_fn():
    try:
        from ..data import batches  # type: ignore[attr-defined]

        return batches
    except ImportError:
        return None


def _finite(v: float) -> bool:
    return math.isfinite(v)


class _Progress:
    """rich progress: a bar per epoch on a terminal, one line per epoch otherwise."""

    def __init__(self, enabled: bool, epochs: int, steps: int):
        self.enabled, self.epochs, self.steps = enabled, epochs, steps
        self.console = self.bar = None
        if not enabled:
            return
        try:
            from rich.console import Console
        except ImportError:  # rich is a dependency; degrade to plain lines if missing
            return
        self.console = Console(stderr=True)
        if self.console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("epoch {task.fields[ep]}"), BarColumn(), MofNCompleteColumn(),
                                TextColumn("loss {task.fields[loss]}"), TimeRemainingColumn(),
                                console=self.console, transient=True)
            self.bar.start()
        self.task = None

    def start_epoch(self, epoch: int, done: int) -> None:
        if self.bar is not None:
            self.task = self.bar.add_task("", total=self.steps, completed=done, ep=f"{epoch}/{self.epochs}", loss="-")

    def advance(self, loss: float) -> None:
        if self.bar is not None and self.task is not None:
            self.bar.update(self.task, advance=1, loss=f"{loss:.4g}")

    def end_epoch(self, row: dict) -> None:
        if not self.enabled:
            return
        if self.bar is not None and self.task is not None:
            self.bar.remove_task(self.task)
        parts = [f"epoch {row['epoch']}/{self.epochs}"] + [f"{k} {v:.4g}" for k, v in row.items()
                                                          if k not in ("epoch", "step") and isinstance(v, float)]
        line = "  ".join(parts)
        if self.console is not None:
            self.console.print(line, highlight=False, soft_wrap=True)
        else:
            print(line, file=sys.stderr)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


class _Interrupt:
    """First Ctrl-C asks the loop to checkpoint and stop after the current step; a second one
    interrupts at once. Only installed in the main thread."""

    def __init__(self):
        self.requested = False
        self._old = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._old = signal.getsignal(signal.SIGINT)
            signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)
        return False


def fit(spec, backend: str = "torch", data=None, out: str | Path | None = None, resume: bool = False,
        params: dict[str, np.ndarray] | None = None, progress: bool = True,
        callback: Callable[[dict], None] | None = None, force: bool = False) -> TrainResult:
    """Train ``spec`` on ``backend`` ("torch" | "keras") with xnn's semantics.

    - ``spec``: a Spec, or a path/dict for :func:`xnn.load_spec`.
    - ``data``: None (``xnn.data.load(spec)``), an object with ``train``/``val``/``test`` pairs
      ``(x (N, *input.shape), y (N,) labels or targets)``, or a tuple of such pairs.
    - ``out``: the run folder (spec.yaml, manifest.json, checkpoints, weights, metrics.json);
      None trains in memory without files.
      A non-empty ``out`` is refused (OutputError) unless ``resume`` or ``force``; ``force``
      moves the old folder aside to ``<out>.replaced-<time>``, never deletes it.
    - ``resume``: continue from the newest readable checkpoint in ``out`` (weights, optimizer
      state, epoch/batch position, history, early stopping, RNG); the final weights equal an
      uninterrupted run's. A spec other than the run's (except a larger ``train.epochs``) is
      refused unless ``force``.
    - ``params``: initial canonical weights (default: seeded ``init_params``).
    - ``callback(info)``: called after every step with epoch, batch, step, loss.

    Raises TrainingError on a NaN/Inf loss (the last good checkpoint is kept); on Ctrl-C writes a
    resumable checkpoint and re-raises KeyboardInterrupt.
    """
    from .. import backends
    from ..init import init_params
    from ..spec import Spec, load_spec

    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    t = spec.train
    if data is None:
        from .. import data as data_mod

        data = data_mod.load(spec)
    pre = getattr(data, "preprocess", None)  # fitted on the training split: kept in the manifest
    d = _as_data(data)
    x_tr, y_tr = d.train
    n_classes = d.n_classes or spec.output.out_shape[-1]
    data_hash = d.data_hash or R.hash_arrays(*d.train, *(d.val or (None, None)), *(d.test or (None, None)))
    extra = {"preprocess": pre.to_dict()} if pre is not None and hasattr(pre, "to_dict") else {}
    run_dir = Path(out) if out is not None else None
    if run_dir is not None:  # refuse before any framework work, and before anything is written
        if resume:
            R.check_resume(run_dir, spec, force=force)
        else:
            aside = R.prepare_fresh(run_dir, force=force)
            if aside is not None:
                print(f"moved the existing {run_dir} aside to {aside}", file=sys.stderr)
        check_writable(run_dir)
    steps_per_epoch = max(1, math.ceil(len(x_tr) / t.batch_size))

    be = backends.get(backend)
    bt = importlib.import_module(f"xnn.backends.{backend}.train")
    bt.configure(t)
    model = be.build(spec, params if params is not None else init_params(spec), dtype=t.dtype, device=t.device)
    cw = L.resolve_class_weights(t, y_tr, n_classes)
    trainer = bt.Trainer(spec, model, t.dtype, steps_per_epoch=steps_per_epoch, class_weights=cw)

    st = {"epoch": 0, "batch": 0, "history": [], "accum": None,
          "es": {"best": None, "best_epoch": None, "wait": 0}, "stopped_early": False}
    best_params = None
    last_ck: Path | None = None
    if resume:
        if run_dir is None:
            raise TrainingError("resume: needs the run folder (out=...)")
        ck = R.latest_checkpoint(run_dir)
        R.check_checkpoint_matches(ck, spec)
        be.set_params(model, ck.params)
        trainer.load_optimizer_state(ck.optimizer)
        trainer.load_rng_state(ck.optimizer)
        st.update({k: ck.state[k] for k in st if k in ck.state})
        best_params = ck.best
        last_ck = ck.path
        if progress:
            where = f"epoch {st['epoch'] + 1}" + (f", batch {st['batch'] + 1}" if st["batch"] else "")
            print(f"resuming {run_dir} from checkpoint {ck.path.name} ({where})", file=sys.stderr)
        _set_status(run_dir, "running")
    elif run_dir is not None:
        R.write_run_files(run_dir, spec=spec, man={**R.manifest(spec, backend, data_hash), **extra, "status": "running"})

    metrics = list(t.metrics)
    es = t.early_stopping
    monitor = None
    if es is not None:
        monitor = es.monitor if d.val is not None else es.monitor[len("val_"):]
        if d.val is None:
            warnings.warn(f"early stopping: no validation split, monitoring the training {monitor}", stacklevel=2)
    batch_fn = _batch_fn()
    aug = spec.data.augment if (spec.data.augment.flip != "none" or spec.data.augment.shift > 0) else None

    def batches(epoch: int) -> Iterator[Pair]:
        if batch_fn is not None:
            return batch_fn(x_tr, y_tr, t.batch_size, t.seed, epoch, shuffle=spec.data.shuffle, augment=aug)
        return _fallback_batches(x_tr, y_tr, t.batch_size, t.seed, epoch, shuffle=spec.data.shuffle)

    def checkpoint(tag: str) -> Path | None:
        nonlocal last_ck
        if run_dir is None:
            return None
        opt = {**trainer.optimizer_state(), **trainer.rng_state()}
        last_ck = R.save_checkpoint(run_dir, tag, be.get_params(model), opt, _jsonable(st), best_params)
        return last_ck

    prog = _Progress(progress, t.epochs, steps_per_epoch)
    try:
        with _Interrupt() as intr:
            for epoch in range(st["epoch"], t.epochs):
                acc = st["accum"] or {"n": 0, "loss": 0.0, **{m: 0.0 for m in metrics}}
                prog.start_epoch(epoch + 1, st["batch"])
                for bi, (xb, yb) in enumerate(batches(epoch)):
                    if bi < st["batch"]:
                        continue  # resumed inside this epoch: these batches are done
                    try:
                        loss = trainer.train_step(xb, yb)
                    except Exception as e:  # noqa: BLE001 - a framework's numeric failure (overflow...)
                        if os.environ.get("XNN_DEBUG"):
                            raise
                        raise TrainingError(
                            f"training step failed at epoch {epoch + 1}, batch {bi + 1}: {type(e).__name__}: "
                            f"{(str(e).splitlines() or [''])[0][:200]}; last good checkpoint: "
                            f"{last_ck if last_ck else 'none'} (XNN_DEBUG=1 shows the traceback)") from e
                    if not _finite(loss):
                        raise TrainingError(
                            f"loss is {loss} at epoch {epoch + 1}, batch {bi + 1} (optimizer step {trainer.step}); "
                            f"training stopped, last good checkpoint: {last_ck if last_ck else 'none'}")
                    n = len(xb)
                    acc["n"] += n
                    acc["loss"] += loss * n
                    for m in metrics:
                        acc[m] += L.metric(m, trainer.last_output, yb, t.loss.type) * n
                    st["batch"], st["accum"] = bi + 1, acc
                    prog.advance(loss)
                    if callback is not None:
                        callback({"epoch": epoch + 1, "batch": bi + 1, "step": trainer.step, "loss": loss})
                    if intr.requested:
                        checkpoint(R.checkpoint_tag(epoch, bi + 1))
                        raise KeyboardInterrupt
                row = {"epoch": epoch + 1, "loss": acc["loss"] / max(acc["n"], 1)}
                row.update({m: acc[m] / max(acc["n"], 1) for m in metrics})
                if d.val is not None:
                    row.update({f"val_{k}": v for k, v in trainer.evaluate(*d.val).items()})
                    if not _finite(row.get("val_loss", 0.0)):
                        raise TrainingError(
                            f"validation loss is {row['val_loss']} after epoch {epoch + 1} (training loss "
                            f"{row['loss']:.4g}); the weights diverged (learning rate {t.optimizer.lr:g} too large?); "
                            f"training stopped, last good checkpoint: {last_ck if last_ck else 'none'}")
                row["lr"] = float(trainer.lr() if trainer.step == 0 else _last_lr(t, trainer))
                row["step"] = trainer.step
                st["history"].append(row)
                st["epoch"], st["batch"], st["accum"] = epoch + 1, 0, None
                stop = False
                if es is not None:
                    v = row.get(monitor)
                    e = st["es"]
                    better = e["best"] is None or (v < e["best"] - es.min_delta if monitor.endswith("loss")
                                                   else v > e["best"] + es.min_delta)
                    if better:
                        e.update(best=v, best_epoch=epoch + 1, wait=0)
                        if es.restore_best:
                            best_params = be.get_params(model)
                    else:
                        e["wait"] += 1
                        stop = e["wait"] >= es.patience
                st["stopped_early"] = stop
                if (epoch + 1) % t.checkpoint_every == 0 or stop or epoch + 1 == t.epochs:
                    checkpoint(R.checkpoint_tag(epoch + 1))
                prog.end_epoch(row)
                if stop:
                    break
    except TrainingError as e:
        if run_dir is not None:
            R.write_run_files(run_dir, metrics={"history": st["history"], "status": "failed"})
            _set_status(run_dir, "failed", error=str(e).splitlines()[0])
        raise
    except KeyboardInterrupt:
        if run_dir is not None:
            _set_status(run_dir, "interrupted")
        raise
    except BaseException as e:
        if run_dir is not None:
            _set_status(run_dir, "failed", error=f"{type(e).__name__}: {(str(e).splitlines() or [''])[0][:200]}")
        raise
    finally:
        prog.close()

    if es is not None and es.restore_best and best_params is not None:
        be.set_params(model, best_params)
    final = be.get_params(model)
    test = trainer.evaluate(*d.test) if d.test is not None else None
    if test is not None and not _finite(test.get("loss", 0.0)):
        e = TrainingError(f"test loss is {test['loss']} at the end of training: the weights are not usable; "
                          f"last good checkpoint: {last_ck if last_ck else 'none'}")
        if run_dir is not None:
            _set_status(run_dir, "failed", error=e.messages[0])
        raise e
    result = TrainResult(final, st["history"], test, run_dir, st["es"]["best_epoch"], bool(st["stopped_early"]), model)
    if run_dir is not None:
        R.write_run_files(run_dir, spec=spec, params=final,
                          man={**R.manifest(spec, backend, data_hash), **extra, "status": "finished"},
                          metrics={"history": st["history"], "test": test, "best_epoch": result.best_epoch,
                                   "stopped_early": result.stopped_early, "status": "finished"})
    return result


def _set_status(run_dir: Path, status: str, error: str | None = None) -> None:
    """Record a run's status (running | failed | interrupted | finished) in its manifest."""
    try:
        man = R.read_manifest(run_dir)
    except Exception:  # noqa: BLE001 - a status update must never hide the original error
        return
    man["status"] = status
    if error:
        man["error"] = error
    else:
        man.pop("error", None)
    try:
        R.write_run_files(run_dir, man=man)
    except Exception:  # noqa: BLE001
        pass


def _last_lr(train, trainer) -> float:
    from .schedules import lr_at

    return lr_at(train, trainer.step - 1, trainer.steps_per_epoch)


def _jsonable(o):
    if isinstance(o, dict):
        return {k: _jsonable(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_jsonable(v) for v in o]
    if isinstance(o, np.generic):
        return o.item()
    return o
