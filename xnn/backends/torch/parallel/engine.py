"""torch's engines for :func:`xnn.train.fit` (protocol: :mod:`xnn.train.engine`), one per
``parallel.mode``: DDP (sync), pipeline stages (model), a parameter server (async).

``engine(spec, data, params)`` is what a worker process calls; rank and world come from the
torchrun-style environment (``RANK``, ``WORLD_SIZE``, ``MASTER_*``).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from ....parallel.plan import loss_norm, shard
from ....train.engine import Settled, batch_metrics
from ....train.losses import resolve_class_weights
from ..build import build as _build, get_params as _get_params, set_params as _set_params
from . import dist as xd
from .data import DataParallelTrainer


def class_weights(spec, data) -> np.ndarray | None:
    k = int(spec.output.out_shape[-1])
    return resolve_class_weights(spec.train, data.train[1], k)


def engine(spec, data, params: dict | None = None):
    """The engine for ``spec.parallel`` in this worker process. For asynchronous SGD, ranks other
    than 0 get a :class:`~.ps.AsyncWorker`, whose ``serve()`` runs until the server stops it."""
    p = spec.parallel
    if p.mode == "data" and p.sync:
        return DataEngine(spec, data, params)
    if p.mode == "data":
        from .ps import async_engine

        return async_engine(spec, data, params)
    if p.mode == "model":
        from .pipeline import PipelineEngine

        return PipelineEngine(spec, data, params)
    raise ValueError("parallel.mode is none: fit runs the single-process engine itself")


class DistEngineBase:
    """What every torch.distributed engine shares: rank-0 decisions shared with every rank, RNG
    state gathered per rank, the barrier and shutdown."""

    rank: int
    world: int

    def share(self, obj: Any) -> Any:
        box = [obj]
        dist.broadcast_object_list(box, src=0)  # torch.distributed's own messaging, between our ranks
        return box[0]

    def gather(self, local: dict) -> list[dict]:
        got: list = [None] * self.world
        dist.all_gather_object(got, local)
        return got

    def rng_state(self) -> dict[str, np.ndarray]:
        """Every rank's torch RNG (each draws its own Dropout masks), as ``rng.torch.<rank>``."""
        got = self.gather({"s": torch.get_rng_state().numpy().copy()})
        return {f"rng.torch.{r}": np.asarray(g["s"]) for r, g in enumerate(got)}

    def load_rng_state(self, state: dict[str, np.ndarray]) -> None:
        s = state.get(f"rng.torch.{self.rank}", state.get("rng.torch"))
        if s is not None:
            torch.set_rng_state(torch.from_numpy(np.ascontiguousarray(s, np.uint8)))

    def reduce_sum(self, values: list[float]) -> list[float]:
        v = torch.tensor(values, dtype=torch.float64)
        dist.all_reduce(v)
        return [float(a) for a in v]

    def flush(self) -> list[Settled]:
        return []

    def barrier(self) -> None:
        dist.barrier()


class DataEngine(DistEngineBase):
    """Synchronous data parallelism (DDP). Every rank holds the same weights after each step."""

    def __init__(self, spec, data, params: dict | None = None):
        from ....data import n_batches
        from ..train import configure

        p = spec.parallel
        _, _, local = xd.env_rank_world()
        dev = xd.device_for(p.devices, local)
        configure(spec.train)
        self.rank, self.world = xd.init(p.timeout_s, str(dev))
        self.spec = spec
        self.cw = class_weights(spec, data)
        self.model = _build(spec, params, spec.train.dtype, str(dev))
        self.steps_per_epoch = n_batches(len(data.train[0]), spec.train.batch_size)
        self.dp = DataParallelTrainer(spec, self.model, spec.train.dtype, self.steps_per_epoch, self.cw)

    @property
    def step(self) -> int:
        return self.dp.trainer.step

    def train_step(self, xb: np.ndarray, yb: np.ndarray) -> list[Settled]:
        xr, yr = shard(xb, yb, self.rank, self.world)
        loss = self.dp.train_step(xr, yr, loss_norm(self.spec, yb, self.cw))
        names = self.spec.train.metrics
        if not names:
            return [Settled(loss, len(xb))]
        # each rank scores its shard; the sums over every shard are the whole batch's
        local = batch_metrics(self.spec, self.dp.trainer.last_output, yr) if len(xr) else {m: 0.0 for m in names}
        sums = self.reduce_sum([local[m] * len(xr) for m in names])
        return [Settled(loss, len(xb), {m: s / len(xb) for m, s in zip(names, sums)})]

    def lr(self) -> float:
        return float(self.dp.trainer.lr())

    def get_params(self) -> dict[str, np.ndarray]:
        return _get_params(self.model)

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        _set_params(self.model, params)

    def state(self) -> dict[str, np.ndarray]:
        return {**self.dp.trainer.optimizer_state(), **self.rng_state()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.dp.trainer.load_optimizer_state(state)
        self.load_rng_state(state)

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """Called on every rank; weights are equal everywhere, so rank 0 alone evaluates."""
        return self.dp.trainer.evaluate(x, y) if self.rank == 0 else {}

    def close(self) -> None:
        # drop DDP (its reducer holds the process group) before leaving the group
        self.dp = None
        xd.shutdown()
