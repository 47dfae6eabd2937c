"""Synchronous data parallelism on torch: DistributedDataParallel over one process per worker.

Every rank walks the single-process batch order (``xnn.data.batches``) and takes its contiguous
slice of each global batch (``xnn.parallel.plan.shard``). Gradients are combined by DDP's
all-reduce, weighted by each rank's share of the batch's loss normaliser (samples, or the summed
class weights), so a step equals the single-process step on the whole batch even when shards
are uneven. ``accumulate = k`` splits each rank's shard into k micro-steps under ``no_sync`` (the
same optimizer step with less memory).
"""
from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel as DDP

from ....parallel.plan import loss_norm, split_counts
from ..train import Trainer
from . import dist as xd


class _Forward:
    """What the Trainer sees as its model: DDP for training forwards, the plain module otherwise
    (evaluation on one rank must not enter DDP's collectives)."""

    def __init__(self, ddp: DDP, raw: torch.nn.Module):
        self._ddp, self._raw = ddp, raw

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self._ddp(x) if self._raw.training else self._raw(x)

    def __getattr__(self, name):
        return getattr(self._raw, name)


class DataParallelTrainer:
    """The backend Trainer made data-parallel. ``train_step(x_r, y_r, global_norm)`` takes this
    rank's shard; returns the global batch loss (same on every rank)."""

    def __init__(self, spec, model, dtype: str, steps_per_epoch: int, class_weights: np.ndarray | None = None):
        p = spec.parallel
        self.spec, self.raw = spec, model
        self.rank, self.world = torch.distributed.get_rank(), torch.distributed.get_world_size()
        if p.sync_batchnorm:
            xd.sync_batchnorm(model)
        self.trainer = Trainer(spec, model, dtype, steps_per_epoch, class_weights)
        dev = model.xnn_device
        self.ddp = DDP(model, device_ids=[dev.index] if dev.type == "cuda" else None)
        self.hook = xd.WeightedAverage()
        self.ddp.register_comm_hook(self.hook, xd.weighted_hook)
        self.trainer.model = _Forward(self.ddp, model)
        self.accumulate = p.accumulate
        self.class_weights = class_weights

    @property
    def step(self) -> int:
        return self.trainer.step

    def train_step(self, x: np.ndarray, y: np.ndarray, global_norm: float) -> float:
        """One optimizer step; ``x``/``y`` this rank's shard, ``global_norm`` the whole batch's."""
        if self.accumulate > 1:
            return self._accumulated_step(x, y, global_norm)
        local = loss_norm(self.spec, y, self.class_weights)
        self.hook.weight = local / global_norm
        # the Trainer's own step: its backward runs DDP's weighted all-reduce, clipping sees the
        # global gradient
        return self._reduce_loss(self.trainer.train_step(x, y) * local / global_norm)

    def _accumulated_step(self, x: np.ndarray, y: np.ndarray, global_norm: float) -> float:
        """Micro-steps under ``no_sync``; each micro loss weighted by its share of this rank's norm."""
        t = self.trainer
        t.train_mode()
        local = loss_norm(self.spec, y, self.class_weights)
        self.hook.weight = local / global_norm
        t.zero_grad()
        total = 0.0
        outs = []
        counts = split_counts(len(x), self.accumulate)
        a = 0
        for i, c in enumerate(counts):
            xm, ym = x[a:a + c], y[a:a + c]
            a += c
            xt, yt = t.tensors(xm, ym)
            w = loss_norm(self.spec, ym, self.class_weights) / local
            ctx = self.ddp.no_sync() if i < len(counts) - 1 else contextlib.nullcontext()
            with ctx:
                out = self.ddp(xt)
                outs.append(out.detach())
                loss = t.loss(out, yt) * w
                if t.optimizer is not None:
                    loss.backward()
            total += float(loss.detach())
        t.apply_step()
        t._keep_output(torch.cat(outs) if outs else None)  # this rank's outputs, for training metrics
        return self._reduce_loss(total * local / global_norm)

    def _reduce_loss(self, part: float) -> float:
        v = torch.tensor([part], dtype=torch.float64)
        torch.distributed.all_reduce(v)
        return float(v.item())

