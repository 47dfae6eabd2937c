"""Model parallelism on torch: the graph cut into stages (one process per stage, each on its
``parallel.devices`` entry) run by ``torch.distributed.pipelining`` with microbatches.

Every rank builds the whole model (same canonical weights) but runs only its stage; the
backend Trainer's optimizer skips the parameters without gradients, so each rank updates exactly
its stage. Each microbatch's loss is xnn's mean loss times its share of the batch's normaliser and
the schedule's own 1/microbatches scaling is off, so a step equals the unsplit step on the whole
batch for any split (BatchNorm excepted: its statistics are per microbatch, as in every pipeline).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.distributed as dist
from torch.distributed.pipelining import PipelineStage, Schedule1F1B, ScheduleGPipe

from ....parallel.plan import loss_norm, resolve_stages
from ....train.engine import Settled, batch_metrics
from ..build import build as _build, get_params as _get_params, set_params as _set_params
from ..train import Trainer, configure
from . import dist as xd
from .engine import DistEngineBase, class_weights
from .stages import split


class PipelineEngine(DistEngineBase):
    """One stage of the pipeline (this rank's). ``train_step`` takes the global batch."""

    def __init__(self, spec, data, params: dict | None = None):
        from ....data import n_batches

        configure(spec.train)
        p = spec.parallel
        self.stages = resolve_stages(spec)
        _, _, local = xd.env_rank_world()
        dev = xd.device_for(p.devices, local)
        self.rank, self.world = xd.init(p.timeout_s, str(dev))
        if self.world != len(self.stages):
            from ....errors import SpecError

            raise SpecError(f"parallel.stages: {len(self.stages)} stages need {len(self.stages)} processes (running {self.world})")
        self.spec, self.device = spec, dev
        self.cw = class_weights(spec, data)
        self.model = _build(spec, params, spec.train.dtype, str(dev))
        self.mine = set(self.stages[self.rank])
        self.trainer = Trainer(spec, self.model, spec.train.dtype, n_batches(len(data.train[0]), spec.train.batch_size), self.cw)
        self._mod = split(self.model, spec, self.stages)[self.rank]
        self._norm = 1.0
        self._outs: list[torch.Tensor] = []  # the last stage's microbatch outputs (training metrics)
        self._schedules: dict[tuple[int, int], tuple] = {}
        self.first, self.last = self.rank == 0, self.rank == self.world - 1

    def _schedule(self, n: int):
        """The schedule for a batch of ``n``: torch's stages fix their microbatch shape on first use,
        so a batch that splits differently (the last, partial one) gets its own stage and schedule.
        Microbatches are equal: the most microbatches <= ``parallel.microbatches`` dividing ``n``
        (xnn weights each microbatch's loss, so any split gives the unsplit step)."""
        m = max(d for d in range(1, min(self.spec.parallel.microbatches, n) + 1) if n % d == 0)
        key = (n // m, m)
        if key not in self._schedules:
            stage = PipelineStage(self._mod, self.rank, self.world, self.device)
            cls = Schedule1F1B if self.spec.parallel.schedule == "1f1b" and m >= self.world else ScheduleGPipe
            self._schedules[key] = (stage, cls(stage, m, loss_fn=self._loss, scale_grads=False))
        return self._schedules[key][1]

    def _loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        w = loss_norm(self.spec, y.detach().cpu().numpy(), self.cw) / self._norm
        if self.spec.train.metrics:
            self._outs.append(out.detach())
        return self.trainer.loss(out, y) * w

    @property
    def step(self) -> int:
        return self.trainer.step

    def lr(self) -> float:
        return float(self.trainer.lr())

    def train_step(self, xb: np.ndarray, yb: np.ndarray) -> list[Settled]:
        t = self.trainer
        self._outs = []
        t.train_mode()
        self._norm = loss_norm(self.spec, yb, self.cw)
        t.zero_grad()
        xt, yt = t.tensors(xb, yb)
        losses: list[torch.Tensor] = []
        schedule = self._schedule(len(xb))
        if self.first:
            schedule.step(xt)
        elif self.last:
            schedule.step(target=yt, losses=losses)
        else:
            schedule.step()
        names = self.spec.train.metrics
        mets = {m: 0.0 for m in names}
        if self.last and names:  # microbatches in order: their outputs are the batch's
            m = max(d for d in range(1, min(self.spec.parallel.microbatches, len(xb)) + 1) if len(xb) % d == 0)
            # the schedule may also run the loss once while it infers shapes: the batch is the last m
            mets = batch_metrics(self.spec, torch.cat(self._outs[-m:]).cpu().numpy(), yb)
        sums = self.reduce_sum([float(sum(float(l.detach()) for l in losses)) if self.last else 0.0]
                               + [mets[m] for m in names])
        t.apply_step(clip=self._clip)  # the global norm over every stage's gradients
        return [Settled(sums[0], len(xb), dict(zip(names, sums[1:])))]

    def _clip(self, max_norm: float) -> None:
        """Clip by the global norm over every stage's gradients (one all_reduce of squared norms)."""
        grads = [p.grad for p in self.trainer.trainable if p.grad is not None]
        sq = torch.tensor([float(sum(float((g.double() ** 2).sum()) for g in grads))], dtype=torch.float64)
        dist.all_reduce(sq)
        coef = max_norm / (float(sq.sqrt()) + 1e-6)
        if coef < 1:
            for g in grads:
                g.mul_(coef)

    def _gather(self, local: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for d in self.gather(local):
            out.update(d)
        return out

    def _own(self, d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {k: v for k, v in d.items() if k.split(".", 1)[0] in self.mine}

    def get_params(self) -> dict[str, np.ndarray]:
        return self._gather(self._own(_get_params(self.model)))

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        _set_params(self.model, params)

    def state(self) -> dict[str, np.ndarray]:
        st = self.trainer.optimizer_state()
        out = self._gather(self._own({k: v for k, v in st.items() if k != "step"}))
        out["step"] = st["step"]
        return {**out, **self.rng_state()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.trainer.load_optimizer_state(state)
        self.load_rng_state(state)

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        """Collective: every rank hands in its stage's weights; rank 0 evaluates the whole model."""
        params = self.get_params()
        if self.rank != 0:
            return {}
        _set_params(self.model, params)  # other stages' copies on rank 0 are not trained here
        return self.trainer.evaluate(x, y)

    def close(self) -> None:
        self._schedules.clear()
        xd.shutdown()
