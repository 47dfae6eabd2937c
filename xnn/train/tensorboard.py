"""TensorBoard logging and training diagnostics for :func:`xnn.train.fit` (``train.tensorboard``).

Framework-neutral: event files are written with the tensorboard package's own ``RecordWriter``
(TFRecord framing and CRCs) and its ``compat.proto`` messages (``Event``, ``Summary``,
``HistogramProto``, text and scalar plugin metadata). Neither TensorFlow nor torch is imported
here (``torch.utils.tensorboard.SummaryWriter`` and ``tensorboard.summary.Writer`` both go
through ``tensorboard.compat.tf``, which imports TensorFlow when it is installed).

The same tags on every backend (docs/experiments.md)::

    step/loss, step/lr, step/<metric>     every ``every`` optimizer steps (x: optimizer step)
    grad_norm/<node>.<param>              L2 norm of the gradient before clipping (x: step)
    grad_norm/total                       global norm of all gradients before clipping
    weight_norm/<node>.<param>            L2 norm of the weights after the step (x: step)
    weights/<node>.<param>                histogram of the weights (``histogram_every``, default
    gradients/<node>.<param>              once per epoch, at its last step)
    epoch/loss, epoch/<metric>, epoch/val_loss, epoch/val_<metric>, epoch/lr  (x: epoch from 1)
    test/loss, test/<metric>              once, at the end (x: last optimizer step)
    spec                                  text: the resolved spec (YAML)

Scalars are stored as float32 ``simple_value`` (TensorBoard's data server shows no float64
scalars); the float64 values per epoch go to ``diagnostics.json`` in the run folder:
``{"format": 1, "epochs": [{"epoch", "step", "logged_steps", "grad_norm": {name: mean over the
epoch's logged steps}, "grad_norm_max": {...}, "grad_norm_total", "weight_norm": {name: at the
end of the epoch}}]}``. Only rank 0 writes; every rank takes the same logging decisions (they
depend on the step number only) because ``get_params`` is a collective.
"""
from __future__ import annotations

import itertools
import math
import os
import socket
import time
from pathlib import Path

import numpy as np

DIAGNOSTICS = "diagnostics.json"
DIAGNOSTICS_FORMAT = 1
HISTOGRAM_BINS = 30
_FILES = itertools.count()  # tells apart the event files one process opens in one second


class EventFile:
    """One TensorBoard event file in ``logdir`` (created), written by tensorboard's RecordWriter."""

    def __init__(self, logdir: str | Path):
        from tensorboard.compat.proto import event_pb2, summary_pb2
        from tensorboard.plugins.text import metadata as text_metadata
        from tensorboard.summary.writer.record_writer import RecordWriter

        self._event, self._summary, self._text_md = event_pb2.Event, summary_pb2, text_metadata
        d = Path(logdir)
        d.mkdir(parents=True, exist_ok=True)
        # TensorBoard finds files by the "tfevents" in the name; time, host and pid keep them apart
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}.{next(_FILES)}.xnn"
        self.path = d / name
        self._f = open(self.path, "xb")
        self._w = RecordWriter(self._f)
        self._write(file_version="brain.Event:2")

    def _write(self, **fields) -> None:
        self._w.write(self._event(wall_time=time.time(), **fields).SerializeToString())

    def scalars(self, values: dict[str, float], step: int) -> None:
        """Several scalars at one step in one event."""
        if values:
            S = self._summary.Summary
            self._write(step=int(step), summary=S(value=[S.Value(tag=k, simple_value=float(v))
                                                         for k, v in values.items()]))

    def histograms(self, arrays: dict[str, np.ndarray], step: int, bins: int = HISTOGRAM_BINS) -> None:
        if not arrays:
            return
        S = self._summary.Summary
        vals = [S.Value(tag=k, histo=histogram_proto(self._summary.HistogramProto, a, bins)) for k, a in arrays.items()]
        self._write(step=int(step), summary=S(value=vals))

    def text(self, tag: str, text: str, step: int = 0) -> None:
        from tensorboard.compat.proto import tensor_pb2, tensor_shape_pb2, types_pb2

        tp = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[text.encode("utf-8")],
                                    tensor_shape=tensor_shape_pb2.TensorShapeProto())
        md = self._text_md.create_summary_metadata(display_name=tag, description="")
        S = self._summary.Summary
        self._write(step=int(step), summary=S(value=[S.Value(tag=tag, tensor=tp, metadata=md)]))

    def graph(self, graph_def: bytes) -> None:
        """A serialized ``GraphDef`` (the Graphs dashboard)."""
        self._write(graph_def=graph_def)

    def flush(self) -> None:
        self._f.flush()

    def close(self) -> None:
        if not self._f.closed:
            self._f.flush()
            os.fsync(self._f.fileno())
            self._f.close()


def histogram_proto(cls, a: np.ndarray, bins: int = HISTOGRAM_BINS):
    """TensorBoard's ``HistogramProto`` of ``a``: ``bins`` equal-width buckets between its min and
    max (``bucket_limit`` = right edges), with the count, sum and sum of squares."""
    a = np.asarray(a, np.float64).reshape(-1)
    a = a[np.isfinite(a)]
    if a.size == 0:
        return cls(min=0.0, max=0.0, num=0, sum=0.0, sum_squares=0.0, bucket_limit=[0.0], bucket=[0.0])
    lo, hi = float(a.min()), float(a.max())
    if lo == hi:
        edges, counts = np.array([lo, hi]), np.array([a.size])
    else:
        counts, edges = np.histogram(a, bins=bins, range=(lo, hi))
    return cls(min=lo, max=hi, num=int(a.size), sum=float(a.sum()), sum_squares=float(np.dot(a, a)),
               bucket_limit=[float(e) for e in edges[1:]], bucket=[float(c) for c in counts])


def norms(arrays: dict[str, np.ndarray]) -> dict[str, float]:
    """L2 norm of each array (float64)."""
    out = {}
    for k, v in arrays.items():
        a = np.asarray(v, np.float64).reshape(-1)
        out[k] = float(math.sqrt(float(np.dot(a, a))))
    return out


def total_norm(n: dict[str, float]) -> float:
    return float(math.sqrt(sum(v * v for v in n.values())))


class Logger:
    """What :func:`xnn.train.fit` calls around its steps when ``train.tensorboard`` is set.

    ``want_grads(position)`` before a step (arms the engine when the step logs gradients);
    ``after_step(settled, position)``; ``end_epoch(row, epoch)``; ``end(test)``; ``close()``.
    ``position`` is the 1-based global step of the batch just handed in. ``state`` is the
    loop's resumable state (JSON) where the per-epoch accumulators and the diagnostics live.
    """

    def __init__(self, tb, spec, engine, run_dir: Path | None, lead: bool, state: dict, steps_per_epoch: int,
                 backend: str, model=None):
        from .optim import param_info

        self.tb, self.spec, self.engine, self.lead = tb, spec, engine, lead
        self.run_dir = run_dir
        self.spe = steps_per_epoch
        self.every = int(tb.every)
        self.hist_every = tb.histogram_every
        self.trainable = [k for k, i in param_info(spec).items() if i.trainable]
        self.metrics = list(spec.train.metrics)
        self.state = state
        state.setdefault("diag", {"epochs": []})
        state.setdefault("diag_acc", None)
        self.armed = False
        self.file = None
        if lead:
            try:
                self.file = EventFile(tb.dir)
            except OSError as e:
                from ..errors import OutputError

                raise OutputError(f"{tb.dir}: train.tensorboard.dir (--tensorboard): cannot write event files "
                                  f"there ({e.strerror or type(e).__name__})") from None
        if self.file is not None:
            self.file.text("spec", "    " + spec.to_yaml().replace("\n", "\n    "), step=int(engine.step))
            if tb.graph and model is not None:
                self._graph(backend, model)

    # ------------------------------------------------------------------ cadence
    def _logs(self, position: int) -> bool:
        return (position - 1) % self.every == 0

    def _hist(self, position: int) -> bool:
        if self.hist_every is None:
            return position % self.spe == 0
        return (position - 1) % self.hist_every == 0

    def want_grads(self, position: int) -> None:
        """Before the step of global batch ``position``: ask the engine to keep its gradients
        when this step logs them (other steps pay nothing)."""
        self.armed = self._logs(position) or self._hist(position)
        if self.armed:
            want = getattr(self.engine, "want_gradients", None)
            if want is not None:
                want()

    # ------------------------------------------------------------------ per step
    def after_step(self, settled, position: int) -> None:
        """After the step of global batch ``position``: ``settled`` the updates that landed."""
        logs, hist = self._logs(position), self._hist(position)
        grads = None
        if self.armed:
            get = getattr(self.engine, "last_gradients", None)
            grads = get() if get is not None else None
            self.armed = False
        values: dict[str, float] = {}
        for s in settled:
            if logs:
                values["step/loss"] = s.loss
                values.update({f"step/{m}": s.metrics[m] for m in self.metrics if m in s.metrics})
        if not (logs or hist):
            return
        params = self.engine.get_params()  # a collective: every rank takes the same steps
        step = int(self.engine.step)
        if logs:
            from .schedules import lr_at

            values["step/lr"] = float(lr_at(self.spec.train, max(step - 1, 0), self.spe))  # this step's lr
            gn = norms({k: grads[k] for k in self.trainable if k in grads}) if grads else {}
            if gn:
                values.update({f"grad_norm/{k}": v for k, v in gn.items()})
                values["grad_norm/total"] = total_norm(gn)
                self._accumulate(gn)
            values.update({f"weight_norm/{k}": v for k, v in norms({k: params[k] for k in self.trainable}).items()})
            if self.file is not None:
                self.file.scalars(values, step)
        if hist and self.file is not None:
            arrays = {f"weights/{k}": params[k] for k in self.trainable}
            if grads:
                arrays.update({f"gradients/{k}": grads[k] for k in self.trainable if k in grads})
            self.file.histograms(arrays, step)

    def _accumulate(self, gn: dict[str, float]) -> None:
        acc = self.state.get("diag_acc") or {"n": 0, "sum": {}, "max": {}, "total": 0.0}
        acc["n"] += 1
        for k, v in gn.items():
            acc["sum"][k] = acc["sum"].get(k, 0.0) + v
            acc["max"][k] = max(acc["max"].get(k, 0.0), v)
        acc["total"] += total_norm(gn)
        self.state["diag_acc"] = acc

    # ------------------------------------------------------------------ per epoch
    def end_epoch(self, row: dict, epoch: int) -> None:
        """After epoch ``epoch`` (from 1): its scalars, and a diagnostics record (float64)."""
        params = self.engine.get_params()  # collective
        acc = self.state.get("diag_acc") or {"n": 0, "sum": {}, "max": {}, "total": 0.0}
        n = acc["n"]
        rec = {"epoch": int(epoch), "step": int(row.get("step", self.engine.step)), "logged_steps": int(n),
               "grad_norm": {k: v / n for k, v in acc["sum"].items()} if n else {},
               "grad_norm_max": dict(acc["max"]) if n else {},
               "grad_norm_total": acc["total"] / n if n else None,
               "weight_norm": norms({k: params[k] for k in self.trainable if k in params})}
        self.state["diag"]["epochs"].append(rec)
        self.state["diag_acc"] = None
        if not self.lead:
            return
        self.file.scalars({f"epoch/{k}": v for k, v in row.items()
                           if k not in ("epoch", "step") and isinstance(v, (int, float))}, epoch)
        self.file.flush()
        self.write_diagnostics()

    def write_diagnostics(self) -> None:
        if self.run_dir is None or not self.lead:
            return
        from ..fileio import write_json

        write_json(self.run_dir / DIAGNOSTICS, {"format": DIAGNOSTICS_FORMAT, "tensorboard": str(self.tb.dir),
                                                "every": self.every, **self.state["diag"]})

    def end(self, test: dict | None) -> None:
        if self.file is not None and test:
            self.file.scalars({f"test/{k}": v for k, v in test.items() if isinstance(v, (int, float))},
                              int(self.engine.step))

    def close(self) -> None:
        if self.file is not None:
            self.file.close()

    # ------------------------------------------------------------------ graph
    def _graph(self, backend: str, model) -> None:
        import importlib
        import warnings

        try:
            fn = getattr(importlib.import_module(f"xnn.backends.{backend}.train"), "graph_def", None)
            g = fn(model, self.spec) if fn is not None else None
        except Exception as e:  # noqa: BLE001 - the graph is a picture; training goes on without it
            warnings.warn(f"train.tensorboard.graph: the {backend} model graph could not be traced, not logged "
                          f"({type(e).__name__}: {(str(e).splitlines() or [''])[0][:160]})", RuntimeWarning,
                          stacklevel=3)
            return
        if g:
            self.file.graph(g)
