"""Asynchronous SGD on torch.distributed: a parameter server (rank 0) and W workers (ranks 1..W)
exchanging point-to-point messages; workers never wait for each other.

The server runs :func:`xnn.train.fit` with :class:`AsyncServerEngine`, so it owns the loop: it
walks the single-process batch order and hands each global batch to the next free worker with
the current weights. A worker computes the batch's gradient, loss and training metrics on the
weights it was given and pushes them back; the server applies the gradient with the backend
Trainer's optimizer (lr schedule by server steps, clipping) only if its staleness ``v_now -
v_pull`` is within ``parallel.max_staleness`` (definition: :mod:`xnn.parallel.staleness`); a
rejected worker recomputes the same batch on the fresh weights sent with the refusal. Checkpoints,
resume, validation, early stopping and test evaluation are fit's, on the server.

Messages (int64 headers, then flat tensors in the Trainer's parameter order): server -> worker
``[ASSIGN, version, n]`` + weights + x + y, ``[RETRY, version, 0]`` + weights, ``[STOP, 0, 0]``;
worker -> server ``[PUSH, version_pulled, n]`` + gradient, loss, metrics.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.distributed as dist

from ....parallel.staleness import StalenessLog
from ....train.engine import EngineBase, Settled, batch_metrics
from ..build import build as _build, get_params as _get_params, set_params as _set_params
from ..train import Trainer, configure
from . import dist as xd
from .engine import class_weights

ASSIGN, RETRY, STOP, PUSH = 1, 2, 3, 4


def _flat(params: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in params])


def _unflat(vec: torch.Tensor, params: list[torch.Tensor]) -> None:
    with torch.no_grad():
        i = 0
        for p in params:
            n = p.numel()
            p.copy_(vec[i:i + n].view_as(p))
            i += n


class _Side:
    """What server and workers share: the model, the Trainer and its trainable tensors."""

    def __init__(self, spec, data, params: dict | None):
        from ....data import n_batches
        from ....errors import SpecError

        p = spec.parallel
        configure(spec.train)
        self.rank, self.world = xd.init(p.timeout_s, "cpu")
        if self.world != p.workers + 1:
            raise SpecError(f"parallel.workers: asynchronous SGD with {p.workers} workers needs {p.workers + 1} "
                            f"processes (a parameter server and the workers); running {self.world}")
        self.spec = spec
        self.cw = class_weights(spec, data)
        self.model = _build(spec, params, spec.train.dtype, "cpu")
        self.steps_per_epoch = n_batches(len(data.train[0]), spec.train.batch_size)
        self.trainer = Trainer(spec, self.model, spec.train.dtype, self.steps_per_epoch, self.cw)
        self.vars = self.trainer.trainable
        self.n = int(sum(v.numel() for v in self.vars))
        self.dt = self.vars[0].dtype
        self.names = list(spec.train.metrics)
        self.x_shape = tuple(data.train[0].shape[1:])
        self.y_shape, self.y_int = tuple(data.train[1].shape[1:]), np.issubdtype(data.train[1].dtype, np.integer)


def async_engine(spec, data, params: dict | None = None):
    """Rank 0: the server's engine (fit runs there); other ranks: a worker to ``serve()``."""
    side = _Side(spec, data, params)
    return AsyncServerEngine(side) if side.rank == 0 else AsyncWorker(side)


class AsyncServerEngine(EngineBase):
    """The parameter server as fit's engine: ``train_step`` hands a batch to a free worker and
    applies whatever gradients arrive meanwhile; ``flush`` waits for every batch in flight."""

    def __init__(self, side: _Side):  # EngineBase: rank 0; share and barrier need no messages,
        self.s = side  # the server alone runs the loop while the workers serve
        self.world = side.world
        self.model = side.model
        p = side.spec.parallel
        self.log = StalenessLog(p.max_staleness, exact_bound=True)
        self.version = 0
        self.idle = list(range(1, p.workers + 1))
        self.busy: dict[int, tuple[int, int]] = {}  # worker -> (version it pulled, batch size)
        self._head = torch.empty(3, dtype=torch.int64)
        self._buf = torch.empty(side.n + 1 + len(side.names), dtype=side.dt)

    @property
    def step(self) -> int:
        return self.s.trainer.step

    def lr(self) -> float:
        return float(self.s.trainer.lr())

    def _send_weights(self, cmd: int, w: int, n: int) -> None:
        dist.send(torch.tensor([cmd, self.version, n], dtype=torch.int64), dst=w)
        dist.send(_flat(self.s.vars), dst=w)

    def train_step(self, xb: np.ndarray, yb: np.ndarray) -> list[Settled]:
        settled: list[Settled] = []
        while not self.idle:
            settled += self._receive()
        w = self.idle.pop(0)
        self._send_weights(ASSIGN, w, len(xb))
        dist.send(torch.as_tensor(np.ascontiguousarray(xb)).to(self.s.dt).reshape(-1), dst=w)
        dist.send(torch.as_tensor(np.ascontiguousarray(yb), dtype=torch.float64).reshape(-1), dst=w)
        self.busy[w] = (self.version, len(xb))
        return settled

    def _receive(self) -> list[Settled]:
        """One push from any busy worker: applied (and that worker idle) or sent back to retry."""
        src = dist.recv(self._head)  # whoever pushes first is served first
        if int(self._head[0]) != PUSH:
            raise RuntimeError(f"parameter server: unexpected message {int(self._head[0])} from rank {src}")
        dist.recv(self._buf, src=src)
        pulled, n = self.busy[src]
        if not self.log.accept(pulled, self.version):
            self._send_weights(RETRY, src, n)
            self.busy[src] = (self.version, n)
            return []
        t, buf = self.s.trainer, self._buf
        i = 0
        for prm in self.s.vars:
            k = prm.numel()
            prm.grad = buf[i:i + k].view_as(prm).clone()
            i += k
        t.apply_step()  # the Trainer's own step (clipping, scheduled lr by server steps) on the pushed gradient
        self.version += 1
        del self.busy[src]
        self.idle.append(src)
        tail = buf[i:].double().tolist()
        return [Settled(tail[0], n, dict(zip(self.s.names, tail[1:])))]

    def flush(self) -> list[Settled]:
        settled: list[Settled] = []
        while self.busy:
            settled += self._receive()
        return settled

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        return self.s.trainer.evaluate(x, y)

    def get_params(self) -> dict[str, np.ndarray]:
        return _get_params(self.model)

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        _set_params(self.model, params)

    def state(self) -> dict[str, np.ndarray]:
        return {**self.s.trainer.optimizer_state(), **self.s.trainer.rng_state()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        self.s.trainer.load_optimizer_state(state)
        self.s.trainer.load_rng_state(state)

    def summary(self) -> dict:
        return self.log.summary()

    def close(self) -> None:
        try:
            self.flush()
            for w in self.idle:
                dist.send(torch.tensor([STOP, self.version, 0], dtype=torch.int64), dst=w)
            dist.barrier()
            print(f"async: {self.step} updates, staleness {self.log.summary()}", flush=True)
        finally:
            xd.shutdown()


class AsyncWorker:
    """A worker: computes gradients for the batches the server assigns until it says stop."""

    def __init__(self, side: _Side):
        self.s = side
        self.rank, self.world = side.rank, side.world

    def serve(self, after_step=None) -> None:
        s, t = self.s, self.s.trainer
        head = torch.empty(3, dtype=torch.int64)
        weights = torch.empty(s.n, dtype=s.dt)
        x = y = None
        local = 0
        try:
            while True:
                dist.recv(head, src=0)
                cmd, version, n = (int(v) for v in head)
                if cmd == STOP:
                    break
                dist.recv(weights, src=0)
                _unflat(weights, s.vars)
                if cmd == ASSIGN:
                    xf = torch.empty(n * int(np.prod(s.x_shape, dtype=np.int64)), dtype=s.dt)
                    yf = torch.empty(n * int(np.prod(s.y_shape, dtype=np.int64)), dtype=torch.float64)
                    dist.recv(xf, src=0)
                    dist.recv(yf, src=0)
                    x = xf.numpy().reshape((n, *s.x_shape))
                    y = yf.numpy().reshape((n, *s.y_shape))
                    y = y.astype(np.int64) if s.y_int else y
                t.train_mode()
                for prm in s.vars:
                    prm.grad = None
                xt, yt = t.tensors(x, y)
                out = s.model(xt)
                loss = t.loss(out, yt)
                loss.backward()
                g = torch.cat([(prm.grad if prm.grad is not None else torch.zeros_like(prm)).reshape(-1)
                               for prm in s.vars])
                mets = batch_metrics(s.spec, out.detach().numpy(), y) if s.names else {}
                tail = torch.tensor([float(loss.detach())] + [mets[m] for m in s.names], dtype=s.dt)
                dist.send(torch.tensor([PUSH, version, n], dtype=torch.int64), dst=0)
                dist.send(torch.cat([g, tail]), dst=0)
                local += 1
                if after_step is not None:
                    after_step(local)
            dist.barrier()
        finally:
            xd.shutdown()

    def close(self) -> None:
        pass
