"""Asynchronous SGD on torch.distributed: a parameter server (rank 0) and W workers (ranks 1..W)
exchanging point-to-point messages; workers never wait for each other.

Protocol (int64 headers, then flat float tensors in the Trainer's parameter order):
worker -> server ``[PUSH, v_pull, step_loss_bits]`` + gradient; server -> worker
``[accepted, v_now]`` + weights. The server applies a gradient with the backend Trainer's
optimizer (lr schedule by server steps, clipping) only if its staleness ``v_now - v_pull`` is
within ``parallel.max_staleness`` (definition: :mod:`xnn.parallel.staleness`); a rejected worker
recomputes the same batch on the fresh weights it received. Worker w takes the global batches
``b % W == w - 1`` of the single-process order, epoch after epoch.
"""
from __future__ import annotations

import argparse
import time

import torch
import torch.distributed as dist

from ....parallel.staleness import StalenessLog
from ..build import build as _build, get_params as _get_params
from ..train import Trainer, torch_loss
from . import dist as xd
from .engine import class_weights

PUSH, DONE = 1, 2


def _flat(params: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in params])


def _unflat(vec: torch.Tensor, params: list[torch.Tensor]) -> None:
    with torch.no_grad():
        i = 0
        for p in params:
            n = p.numel()
            p.copy_(vec[i:i + n].view_as(p))
            i += n


def run_async(spec, data, params: dict | None, args: argparse.Namespace) -> dict:
    """Run this rank's role (server on rank 0, worker otherwise) to the end of training."""
    from ....data import batches, n_batches

    p = spec.parallel
    rank, world = xd.init(p.timeout_s, "cpu")
    if world != p.workers + 1:
        from ....errors import SpecError

        raise SpecError(f"parallel.workers: asynchronous SGD with {p.workers} workers needs {p.workers + 1} processes "
                        f"(a parameter server and the workers); running {world}")
    cw = class_weights(spec, data)
    model = _build(spec, params, spec.train.dtype, "cpu")
    spe = n_batches(len(data.train[0]), spec.train.batch_size)
    trainer = Trainer(spec, model, spec.train.dtype, spe, cw)
    vars_ = trainer._trainable
    n = int(sum(v.numel() for v in vars_))
    dt = vars_[0].dtype
    try:
        if rank == 0:
            return _server(spec, data, trainer, vars_, n, dt, args)
        tr = spec.train
        w, W = rank - 1, p.workers
        hook = None
        if args.fail_at_step is not None or args.hang_at_step is not None:
            from ....parallel.worker import fault_hook

            hook = fault_hook(args, rank)
        weights = torch.empty(n, dtype=dt)
        dist.recv(weights, src=0)
        version = 0
        _unflat(weights, vars_)
        local = 0
        quota = -(-args.max_steps // W) if args.max_steps else None  # --max-steps: shared among workers
        for epoch in range(tr.epochs):
            if quota is not None and local >= quota:
                break
            for b, (xb, yb) in enumerate(batches(*data.train, tr.batch_size, tr.seed, epoch, spec.data.shuffle,
                                                 augment=spec.data.augment)):
                if b % W != w:
                    continue
                if quota is not None and local >= quota:
                    break
                accepted = False
                while not accepted:
                    model.train()
                    for prm in vars_:
                        prm.grad = None
                    xt, yt = trainer._tensors(xb, yb)
                    loss = torch_loss(tr.loss, model(xt), yt, trainer._cw)
                    loss.backward()
                    g = torch.cat([(prm.grad if prm.grad is not None else torch.zeros_like(prm)).reshape(-1) for prm in vars_])
                    dist.send(torch.tensor([PUSH, version, 0], dtype=torch.int64), dst=0)
                    dist.send(torch.cat([g, loss.detach().reshape(1).to(dt)]), dst=0)
                    reply = torch.empty(2, dtype=torch.int64)
                    dist.recv(reply, src=0)
                    dist.recv(weights, src=0)
                    accepted, version = bool(reply[0]), int(reply[1])
                    _unflat(weights, vars_)
                local += 1
                if hook:
                    hook(local)
        dist.send(torch.tensor([DONE, version, 0], dtype=torch.int64), dst=0)
        dist.barrier()
        return {}
    finally:
        xd.shutdown()


def _server(spec, data, trainer: Trainer, vars_: list, n: int, dt, args) -> dict:
    p = spec.parallel
    log = StalenessLog(p.max_staleness, exact_bound=True)
    init = _flat(vars_)
    for r in range(1, p.workers + 1):
        dist.send(init, dst=r)
    version, alive, losses = 0, p.workers, []
    header = torch.empty(3, dtype=torch.int64)
    buf = torch.empty(n + 1, dtype=dt)
    opt = trainer.optimizer
    t0 = time.perf_counter()
    while alive:
        src = dist.recv(header)  # from any worker: whoever pushes first is served first
        kind, pulled = int(header[0]), int(header[1])
        if kind == DONE:
            alive -= 1
            continue
        dist.recv(buf, src=src)
        ok = log.accept(pulled, version)
        if ok:
            i = 0
            for prm in vars_:
                k = prm.numel()
                prm.grad = buf[i:i + k].view_as(prm).clone()
                i += k
            if trainer.train.clip_grad_norm is not None:
                torch.nn.utils.clip_grad_norm_(vars_, trainer.train.clip_grad_norm)
            for g in opt.param_groups:
                g["lr"] = trainer.lr()
            opt.step()
            trainer.step += 1
            version += 1
            losses.append(float(buf[-1]))
        dist.send(torch.tensor([int(ok), version], dtype=torch.int64), dst=src)
        dist.send(_flat(vars_), dst=src)
    secs = time.perf_counter() - t0
    dist.barrier()
    summary = {"steps": trainer.step, "seconds": secs, "loss": losses[-1] if losses else float("nan"),
               "staleness": log.summary()}
    if len(data.test[0]):
        summary["test"] = trainer.evaluate(*data.test)
    if args.out:
        from ....parallel.loop import finish_run

        finish_run(args.out, spec, "torch", data, _get_params(trainer.model), summary, p.workers + 1)
    print(f"async: {summary['steps']} updates, staleness {log.summary()}", flush=True)
    return summary
