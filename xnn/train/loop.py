"""xnn's one training loop, the same for every backend and every ``parallel.mode``: batches
from the seeded NumPy pipeline, one engine step per global batch (:mod:`xnn.train.engine`),
per-epoch metrics, validation, early stopping, checkpoints, NaN stop, Ctrl-C checkpoint, resume.

Single-process runs use the backend's ``Trainer`` (``xnn.backends.<name>.train``) as the world-1
engine; parallel workers pass the backend's engine for their mode and run this same loop.
"""
from __future__ import annotations

import importlib
import math
import os
import signal
import sys
import threading
import time
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
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(a, np.ndarray) for a in data):
        data = [tuple(data)]  # fit(spec, data=(x, y)): a train split only
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


def fit(spec, backend: str = "torch", data=None, out: str | Path | None = None, resume: bool | str = False,
        params: dict[str, np.ndarray] | None = None, progress: bool = True,
        callback: Callable[[dict], bool | None] | None = None, force: bool = False, max_steps: int | None = None,
        engine: Any = None) -> TrainResult:
    """Train ``spec`` on ``backend`` ("torch" | "keras") with xnn's semantics, in any ``parallel.mode``.

    - ``spec``: a Spec, or a path/dict for :func:`xnn.load_spec`.
    - ``data``: None (``xnn.data.load(spec)``), an object with ``train``/``val``/``test`` pairs
      ``(x (N, *input.shape), y (N,) labels or targets)``, or a tuple of such pairs (a single
      ``(x, y)`` pair is the train split).
    - ``out``: the run folder (spec.yaml, manifest.json, checkpoints, weights, metrics.json);
      None trains in memory without files (a parallel run then uses a temporary folder).
      A non-empty ``out`` is refused (OutputError) unless ``resume`` or ``force``; ``force``
      moves the old folder aside to ``<out>.replaced-<time>``, never deletes it.
    - ``resume``: continue from the newest readable checkpoint in ``out`` (weights, optimizer
      state, epoch/batch position, history, early stopping, RNG); the final weights equal an
      uninterrupted run's. A spec other than the run's (except a larger ``train.epochs``) is
      refused unless ``force``. ``"auto"`` (parallel workers): resume when a checkpoint exists.
    - ``params``: initial canonical weights (default: seeded ``init_params``).
    - ``callback(info)``: called after every step with epoch, batch, step, loss; returning
      ``True`` stops training after that step, as ``max_steps`` does (a budget, a target loss).
    - ``max_steps``: stop after this many global batches (counted from the run's start).
    - ``engine``: what runs each step (:mod:`xnn.train.engine`); default: the backend's
      single-process Trainer, or, for ``parallel.mode`` data/model, worker processes started
      here that each run this same loop with the backend's engine for that mode.

    Raises TrainingError on a NaN/Inf loss (the last good checkpoint is kept); on Ctrl-C writes a
    resumable checkpoint and re-raises KeyboardInterrupt.
    """
    from ..spec import Spec, load_spec

    if not isinstance(spec, Spec):
        spec = load_spec(spec)
    if engine is None and spec.parallel.mode != "none":
        return _fit_parallel(spec, backend, out, resume, force, progress, max_steps, params, data)
    t = spec.train
    if data is None:
        from .. import data as data_mod

        data = data_mod.load(spec)
    pre = getattr(data, "preprocess", None)  # fitted on the training split: kept in the manifest
    d = _as_data(data)
    x_tr, y_tr = d.train
    data_hash = d.data_hash or R.hash_arrays(*d.train, *(d.val or (None, None)), *(d.test or (None, None)))
    extra = {"preprocess": pre.to_dict()} if pre is not None and hasattr(pre, "to_dict") else {}
    steps_per_epoch = max(1, math.ceil(len(x_tr) / t.batch_size))
    run_dir = Path(out) if out is not None else None
    if run_dir is not None and resume == "auto":  # a worker: the launcher prepared the folder
        resume = bool(R.list_checkpoints(run_dir))
    elif run_dir is not None:  # refuse before any framework work, and before anything is written
        if resume:
            R.check_resume(run_dir, spec, force=force)
        else:
            R.prepare_fresh(run_dir, force=force)
    own_engine = engine is None
    if engine is None:
        engine = _local_engine(spec, backend, d, params)
    lead = engine.rank == 0
    if run_dir is not None and lead:
        check_writable(run_dir)
    progress = progress and lead

    st = {"epoch": 0, "batch": 0, "history": [], "accum": None,
          "es": {"best": None, "best_epoch": None, "wait": 0}, "stopped_early": False}
    if t.tensorboard is not None:  # per-epoch gradient/weight norms (diagnostics.json), resumable
        st.update(diag={"epochs": []}, diag_acc=None)
    best_params = None
    last_ck: Path | None = None
    if resume:
        if run_dir is None:
            raise TrainingError("resume: needs the run folder (out=...)")
        ck = R.latest_checkpoint(run_dir)
        R.check_checkpoint_matches(ck, spec)
        engine.set_params(ck.params)
        engine.load_state(ck.optimizer)
        st.update({k: ck.state[k] for k in st if k in ck.state})
        best_params = ck.best
        last_ck = ck.path
        if progress:
            where = f"epoch {st['epoch'] + 1}" + (f", batch {st['batch'] + 1}" if st["batch"] else "")
            print(f"resuming {run_dir} from checkpoint {ck.path.name} ({where})", file=sys.stderr)
        if lead:
            _set_status(run_dir, "running")
    elif run_dir is not None and lead:
        R.write_run_files(run_dir, spec=spec, man={**_manifest(spec, backend, data_hash, engine), **extra,
                                                    "status": "running"})

    metrics = list(t.metrics)
    es = t.early_stopping
    monitor = None
    if es is not None:
        monitor = es.monitor if d.val is not None else es.monitor[len("val_"):]
        if d.val is None and lead:
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
        params_now, opt = engine.get_params(), engine.state()  # collectives: every rank
        if lead:
            R.save_checkpoint(run_dir, tag, params_now, opt, _jsonable(st), best_params)
        engine.barrier()  # every rank agrees the checkpoint exists before going on
        last_ck = run_dir / "checkpoints" / tag
        return last_ck

    def account(settled, acc: dict, epoch: int, bi: int) -> None:
        for s in settled:
            if not _finite(s.loss):
                raise TrainingError(
                    f"loss is {s.loss} at epoch {epoch + 1}, batch {bi + 1} (optimizer step {engine.step}); "
                    f"training stopped, last good checkpoint: {last_ck if last_ck else 'none'}")
            acc["n"] += s.n
            acc["loss"] += s.loss * s.n
            for m in metrics:
                acc[m] += s.metrics.get(m, 0.0) * s.n
            prog.advance(s.loss)

    prog = _Progress(progress, t.epochs, steps_per_epoch)
    done = False
    tlog = None
    t0 = time.perf_counter()
    try:
        if t.tensorboard is not None:
            from .engine import LocalEngine
            from .tensorboard import Logger

            tlog = Logger(t.tensorboard, spec, engine, run_dir, lead, st, steps_per_epoch, backend,
                          model=engine.model if isinstance(engine, LocalEngine) else None)
        with _Interrupt() as intr:
            for epoch in range(st["epoch"], t.epochs):
                acc = st["accum"] or {"n": 0, "loss": 0.0, **{m: 0.0 for m in metrics}}
                prog.start_epoch(epoch + 1, st["batch"])
                for bi, (xb, yb) in enumerate(batches(epoch)):
                    if bi < st["batch"]:
                        continue  # resumed inside this epoch: these batches are done
                    position = epoch * steps_per_epoch + bi + 1
                    if tlog is not None:
                        tlog.want_grads(position)
                    settled = _step(engine, xb, yb, epoch, bi, last_ck)
                    account(settled, acc, epoch, bi)
                    if tlog is not None:
                        tlog.after_step(settled, position)
                    st["batch"], st["accum"] = bi + 1, acc
                    asked = callback is not None and callback(
                        {"epoch": epoch + 1, "batch": bi + 1, "step": position,
                         "loss": acc["loss"] / max(acc["n"], 1)}) is True
                    stop_here = asked or (max_steps is not None and position >= max_steps)
                    mid = bi + 1 < steps_per_epoch
                    if intr.requested or stop_here or (mid and t.checkpoint_steps and position % t.checkpoint_steps == 0):
                        account(engine.flush(), acc, epoch, bi)  # async: everything handed in has landed
                        if mid:
                            checkpoint(R.checkpoint_tag(epoch, bi + 1))
                    if intr.requested:
                        raise KeyboardInterrupt
                    if stop_here:
                        done = True
                        break
                if done and st["batch"] < steps_per_epoch:
                    break  # max_steps inside an epoch: no epoch row, the checkpoint above holds the place
                account(engine.flush(), acc, epoch, steps_per_epoch - 1)
                row = {"epoch": epoch + 1, "loss": acc["loss"] / max(acc["n"], 1)}
                row.update({m: acc[m] / max(acc["n"], 1) for m in metrics})
                if d.val is not None:
                    row.update({f"val_{k}": v for k, v in engine.evaluate(*d.val).items()})
                row["lr"] = float(engine.lr() if engine.step == 0 else _last_lr(t, engine.step, steps_per_epoch))
                row["step"] = int(engine.step)
                row = engine.share(row)  # rank 0 evaluated: every rank takes its row and decisions
                if d.val is not None and not _finite(row.get("val_loss", 0.0)):
                    raise TrainingError(
                        f"validation loss is {row['val_loss']} after epoch {epoch + 1} (training loss "
                        f"{row['loss']:.4g}); the weights diverged (learning rate {t.optimizer.lr:g} too large?); "
                        f"training stopped, last good checkpoint: {last_ck if last_ck else 'none'}")
                st["history"].append(row)
                st["epoch"], st["batch"], st["accum"] = epoch + 1, 0, None
                if tlog is not None:
                    tlog.end_epoch(row, epoch + 1)  # before the checkpoint: its state holds the record
                stop = False
                if es is not None:
                    v = row.get(monitor)
                    e = st["es"]
                    better = e["best"] is None or (v < e["best"] - es.min_delta if monitor.endswith("loss")
                                                   else v > e["best"] + es.min_delta)
                    if better:
                        e.update(best=v, best_epoch=epoch + 1, wait=0)
                        if es.restore_best:
                            best_params = engine.get_params()
                    else:
                        e["wait"] += 1
                        stop = e["wait"] >= es.patience
                st["stopped_early"] = stop
                if (epoch + 1) % t.checkpoint_every == 0 or stop or epoch + 1 == t.epochs or done:
                    checkpoint(R.checkpoint_tag(epoch + 1))
                prog.end_epoch(row)
                if stop:
                    if progress:
                        print(f"early stopping after epoch {epoch + 1}: {monitor} has not improved for "
                              f"{es.patience} epochs (best epoch {st['es']['best_epoch']})", file=sys.stderr)
                    break
                if done:
                    break
        if es is not None and es.restore_best and best_params is not None:
            engine.set_params(best_params)
        final = engine.get_params()
        test = engine.share(engine.evaluate(*d.test) if d.test is not None else None)
        if test is not None and not _finite(test.get("loss", 0.0)):
            raise TrainingError(f"test loss is {test['loss']} at the end of training: the weights are not usable; "
                                f"last good checkpoint: {last_ck if last_ck else 'none'}")
        if tlog is not None:
            tlog.end(test)
    except TrainingError as e:
        if run_dir is not None and lead:
            R.write_run_files(run_dir, metrics={"history": st["history"], "status": "failed"})
            _set_status(run_dir, "failed", error=str(e).splitlines()[0])
        raise
    except KeyboardInterrupt:
        if run_dir is not None and lead:
            _set_status(run_dir, "interrupted")
        raise
    except BaseException as e:
        if run_dir is not None and lead:
            _set_status(run_dir, "failed", error=f"{type(e).__name__}: {(str(e).splitlines() or [''])[0][:200]}")
        raise
    finally:
        prog.close()
        if tlog is not None:
            tlog.close()
        if own_engine:
            engine.close()

    result = TrainResult(final, st["history"], test, run_dir, st["es"]["best_epoch"], bool(st["stopped_early"]),
                         getattr(engine, "model", None))
    if run_dir is not None and lead:
        R.write_run_files(run_dir, spec=spec, params=final,
                          man={**_manifest(spec, backend, data_hash, engine), **extra, "status": "finished"},
                          metrics={"history": st["history"], "test": test, "best_epoch": result.best_epoch,
                                   "stopped_early": result.stopped_early, "steps": int(engine.step),
                                   "seconds": round(time.perf_counter() - t0, 3),
                                   **({"staleness": engine.summary()} if hasattr(engine, "summary") else {}),
                                   "status": "finished"})
    engine.barrier()
    return result


def _local_engine(spec, backend: str, d: ArrayData, params: dict | None):
    """The world-1 engine: the backend's Trainer in this process."""
    from .. import backends
    from ..init import init_params
    from .engine import LocalEngine

    t = spec.train
    be = backends.get(backend)
    bt = importlib.import_module(f"xnn.backends.{backend}.train")
    bt.configure(t)
    model = be.build(spec, params if params is not None else init_params(spec), dtype=t.dtype, device=t.device)
    n_classes = d.n_classes or spec.output.out_shape[-1]
    cw = L.resolve_class_weights(t, d.train[1], n_classes)
    spe = max(1, math.ceil(len(d.train[0]) / t.batch_size))
    return LocalEngine(spec, be, model, bt.Trainer(spec, model, t.dtype, steps_per_epoch=spe, class_weights=cw))


def _step(engine, xb, yb, epoch: int, bi: int, last_ck):
    """``engine.train_step``; a framework's own failure (overflow, a bad op) is one TrainingError."""
    try:
        return engine.train_step(xb, yb)
    except (TrainingError, KeyboardInterrupt):
        raise
    except Exception as e:  # noqa: BLE001
        if os.environ.get("XNN_DEBUG"):
            raise
        raise TrainingError(
            f"training step failed at epoch {epoch + 1}, batch {bi + 1}: {type(e).__name__}: "
            f"{(str(e).splitlines() or [''])[0][:200]}; last good checkpoint: "
            f"{last_ck if last_ck else 'none'} (XNN_DEBUG=1 shows the traceback)") from e


def _manifest(spec, backend: str, data_hash: str | None, engine) -> dict:
    man = {**R.manifest(spec, backend, data_hash), "kind": "train"}
    if spec.parallel.mode != "none":
        man["parallel"] = {**spec.parallel.model_dump(mode="json"), "processes": int(engine.world)}
    return man


def _fit_parallel(spec, backend: str, out, resume, force: bool, progress: bool, max_steps: int | None,
                  params: dict | None, data) -> TrainResult:
    """``parallel.mode`` data/model from an ordinary process: start the workers (each runs
    :func:`fit` with its engine), then read the run they wrote."""
    import tempfile

    from ..parallel.launch import train as launch_train

    if data is not None:
        raise TrainingError("data=...: a parallel run loads its data in every worker from the spec's data section")
    if params is not None:
        raise TrainingError("params=...: a parallel run starts from the spec's seeded weights or --resume")
    run_dir = Path(out) if out is not None else Path(tempfile.mkdtemp(prefix="xnn-parallel-"))
    if os.environ.get("RANK") is not None and backend == "torch":
        pass  # inside torchrun this process is a worker: fit resumes from the run's checkpoints by itself
    elif resume:
        if (run_dir / "manifest.json").is_file():
            R.check_resume(run_dir, spec, force=force)
    else:
        R.prepare_fresh(run_dir, force=force)
    launch_train(spec, backend, run_dir, resume=bool(resume), max_steps=max_steps, quiet=not progress)
    from ..limits import read_json_file

    _, final, _ = R.load_run(run_dir)
    m = read_json_file(run_dir / "metrics.json")
    return TrainResult(final, list(m.get("history") or []), m.get("test"), run_dir, m.get("best_epoch"),
                       bool(m.get("stopped_early")), None)


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


def _last_lr(train, step: int, steps_per_epoch: int) -> float:
    from .schedules import lr_at

    return lr_at(train, step - 1, steps_per_epoch)


def _jsonable(o):
    if isinstance(o, dict):
        return {k: _jsonable(v) for k, v in o.items()}
    if isinstance(o, list):
        return [_jsonable(v) for v in o]
    if isinstance(o, np.generic):
        return o.item()
    return o
