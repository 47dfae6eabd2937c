"""The engine protocol: what :func:`xnn.train.fit` drives, for every ``parallel.mode``.

``fit`` owns the loop (batch order, history, metrics, validation, early stopping, checkpoints,
resume, NaN stop); an engine owns one optimizer step on a **global** batch and whatever
processes, devices and collectives that step needs. The single-process Trainer is the world-1
engine (:class:`LocalEngine`); each backend's ``engine(spec, data, params)`` returns the one for
the spec's mode (DDP / MirroredStrategy, pipeline stages, a parameter server). Framework-neutral:
nothing here imports a backend.

Collectives: ``evaluate``, ``get_params``, ``state`` and ``share`` are called by every rank in
the same order (some engines gather with collectives); rank 0's answer is the one that counts,
and ``share`` hands rank 0's value to every rank so that every rank takes the same decisions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from . import losses as L


@dataclass
class Settled:
    """One update that has landed: its batch's loss (xnn's mean loss on the whole batch), the
    batch's sample count, and the training metrics on that batch (means over its samples)."""

    loss: float
    n: int
    metrics: dict[str, float] = field(default_factory=dict)


class Engine(Protocol):
    rank: int
    world: int
    step: int  # optimizer steps applied so far

    def train_step(self, xb: np.ndarray, yb: np.ndarray) -> list[Settled]:
        """Hand one global batch to the engine; returns the updates that landed during the call
        (sync engines: exactly this batch's; async engines: zero or more earlier batches)."""
        ...

    def flush(self) -> list[Settled]:
        """Wait until every batch handed in so far has landed (async engines); returns those."""
        ...

    def lr(self) -> float: ...  # learning rate of the next step
    def evaluate(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]: ...  # collective; rank 0 answers
    def get_params(self) -> dict[str, np.ndarray]: ...  # collective: canonical weights
    def set_params(self, params: dict[str, np.ndarray]) -> None: ...
    def state(self) -> dict[str, np.ndarray]: ...  # collective: optimizer slots, "step", "rng.*"
    def load_state(self, state: dict[str, np.ndarray]) -> None: ...
    def share(self, obj: Any) -> Any: ...  # rank 0's JSON-able value on every rank
    def barrier(self) -> None: ...
    def close(self) -> None: ...

    # optional (logging, :mod:`xnn.train.tensorboard`); EngineBase's defaults keep no gradients
    def want_gradients(self) -> None: ...  # keep the gradients of the next train_step
    def last_gradients(self) -> dict[str, np.ndarray] | None: ...  # canonical, before clipping; read once


def batch_metrics(spec, outputs: np.ndarray | None, y: np.ndarray) -> dict[str, float]:
    """Training metrics (``train.metrics``) of one batch from its outputs (means over samples)."""
    t = spec.train
    if not t.metrics or outputs is None:
        return {}
    return {m: float(L.metric(m, outputs, y, t.loss.type)) for m in t.metrics}


class EngineBase:
    """Defaults for a single-process engine: no collectives, nothing in flight."""

    rank = 0
    world = 1

    def flush(self) -> list[Settled]:
        return []

    def share(self, obj: Any) -> Any:
        return obj

    def barrier(self) -> None:
        pass

    def close(self) -> None:
        pass

    def want_gradients(self) -> None:
        pass

    def last_gradients(self) -> dict[str, np.ndarray] | None:
        return None


class LocalEngine(EngineBase):
    """The world-1 engine: one backend ``Trainer`` on whole batches in this process."""

    def __init__(self, spec, backend_module, model, trainer):
        self.spec, self.be, self.model, self.trainer = spec, backend_module, model, trainer

    @property
    def step(self) -> int:
        return self.trainer.step

    def train_step(self, xb: np.ndarray, yb: np.ndarray) -> list[Settled]:
        loss = self.trainer.train_step(xb, yb)
        metrics = batch_metrics(self.spec, self.trainer.last_output, yb) if self.spec.train.metrics else {}
        return [Settled(loss, len(xb), metrics)]

    def lr(self) -> float:
        return float(self.trainer.lr())

    def want_gradients(self) -> None:
        """The next ``train_step`` keeps its gradients (before clipping) for :meth:`last_gradients`."""
        self.trainer.keep_grads = True

    def last_gradients(self) -> dict[str, np.ndarray] | None:
        """``<node>.<param>`` -> gradient (canonical layout, float64) of the latest step that
        :meth:`want_gradients` armed; None otherwise."""
        get = getattr(self.trainer, "last_gradients", None)
        return get() if get is not None else None

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        return self.trainer.evaluate(x, y)

    def get_params(self) -> dict[str, np.ndarray]:
        return self.be.get_params(self.model)

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        self.be.set_params(self.model, params)

    def state(self) -> dict[str, np.ndarray]:
        return {**self.trainer.optimizer_state(), **self.trainer.rng_state()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.trainer.load_optimizer_state(state)
        self.trainer.load_rng_state(state)
