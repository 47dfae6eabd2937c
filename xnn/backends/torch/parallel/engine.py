"""Engines for :func:`xnn.parallel.loop.run` on torch (one per ``parallel.mode``)."""
from __future__ import annotations

import numpy as np
import torch
import torch.distributed as dist

from ....parallel.plan import shard
from ....train.losses import resolve_class_weights
from ..build import build as _build, get_params as _get_params, set_params as _set_params
from . import dist as xd
from ....parallel.plan import loss_norm
from .data import DataParallelTrainer


def class_weights(spec, data) -> np.ndarray | None:
    k = int(spec.output.out_shape[-1])
    return resolve_class_weights(spec.train, data.train[1], k)


class DataEngine:
    """Synchronous data parallelism (DDP). Every rank holds the same weights after each step."""

    def __init__(self, spec, data, params: dict | None = None):
        from ....data import n_batches

        p = spec.parallel
        _, _, local = xd.env_rank_world()
        dev = xd.device_for(p.devices, local)
        self.rank, self.world = xd.init(p.timeout_s, str(dev))
        self.spec = spec
        self.cw = class_weights(spec, data)
        self.model = _build(spec, params, spec.train.dtype, str(dev))
        spe = n_batches(len(data.train[0]), spec.train.batch_size)
        self.dp = DataParallelTrainer(spec, self.model, spec.train.dtype, spe, self.cw)

    def train_step(self, xb: np.ndarray, yb: np.ndarray) -> float:
        xr, yr = shard(xb, yb, self.rank, self.world)
        return self.dp.train_step(xr, yr, loss_norm(self.spec, yb, self.cw))

    def get_params(self) -> dict[str, np.ndarray]:
        return _get_params(self.model)

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        _set_params(self.model, params)

    def optimizer_state(self) -> dict[str, np.ndarray]:
        return self.dp.trainer.optimizer_state()

    def load_optimizer_state(self, state: dict[str, np.ndarray]) -> None:
        self.dp.trainer.load_optimizer_state(state)

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """Called on every rank; weights are equal everywhere, so rank 0 alone evaluates."""
        return self.dp.trainer.evaluate(x, y) if self.rank == 0 else {}

    def barrier(self) -> None:
        dist.barrier()

    def close(self) -> None:
        # drop DDP (its reducer holds the process group) before leaving the group
        self.dp = None
        xd.shutdown()
