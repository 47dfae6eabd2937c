"""Asynchronous SGD on TensorFlow: ParameterServerStrategy with a ClusterCoordinator.

A ``TF_CONFIG`` cluster of one chief, W workers and P parameter servers, each its own process
(one process hangs). Workers and servers run ``tf.distribute.Server(...).join()``; the chief
schedules one closure per global batch of the single-process order (the batch travels as the
closure's arguments). Each closure reads a version counter held on a parameter server, computes
the Trainer's loss and gradients on the weights it reads, applies them with the xnn optimizer,
and increments the counter: ``staleness = version after increment - 1 - version read``
(definition: :mod:`xnn.parallel.staleness`). The engine cannot refuse an update, so the bound is
enforced by bounding the closures in flight, and what was observed is reported. The coordinator dispatches windows of ``max_staleness + 1`` closures and waits for
each window to finish, which keeps the observed staleness within the bound.

Faults: each window must finish within ``parallel.timeout_s`` (TF's coordinator would wait
forever for a worker that stopped answering). The chief checkpoints at epoch ends, once all the
epoch's updates have landed, and resumes from the newest checkpoint (:mod:`xnn.parallel.loop`).
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import time
from pathlib import Path

import numpy as np


def role() -> tuple[str, int]:
    cfg = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    t = cfg.get("task", {})
    return str(t.get("type", "chief")), int(t.get("index", 0))


def run_async(spec, data, params: dict | None, args: argparse.Namespace) -> dict:
    import tensorflow as tf

    kind, index = role()
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    if kind in ("worker", "ps"):
        server = tf.distribute.Server(resolver.cluster_spec(), job_name=kind, task_index=index, protocol="grpc", start=True)
        server.join()  # the launcher stops servers when the chief is done
        return {}
    return _chief(spec, data, params, args, resolver)


def _chief(spec, data, params, args, resolver) -> dict:
    import tensorflow as tf

    from ....data import batches, n_batches
    from ....parallel import loop
    from ....parallel.staleness import StalenessLog
    from ....parallel.worker import fault_hook
    from ....train.losses import resolve_class_weights
    from ..build import build, get_params, set_params
    from ..train import Trainer, clip_by_global_norm, tf_loss

    p, tr = spec.parallel, spec.train
    strategy = tf.distribute.ParameterServerStrategy(resolver)
    coord = tf.distribute.coordinator.ClusterCoordinator(strategy)
    cw = resolve_class_weights(tr, data.train[1], int(spec.output.out_shape[-1]))
    spe = n_batches(len(data.train[0]), tr.batch_size)
    with strategy.scope():
        model = build(spec, params, tr.dtype)
        trainer = Trainer(spec, model, tr.dtype, spe, cw)
        version = tf.Variable(0, dtype=tf.int64, name="xnn_version")
    vars_ = trainer._vars

    @tf.function
    def step_fn(x, y, lr):
        def replica(x, y, lr):
            v0 = version.read_value()
            with tf.control_dependencies([v0]):
                with tf.GradientTape() as tape:
                    out = model(x, training=True)
                    loss = tf_loss(tr.loss, out, y, cw)
            grads = tape.gradient(loss, vars_)
            grads = [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g) for g, v in zip(grads, vars_)]
            if tr.clip_grad_norm is not None:
                grads = clip_by_global_norm(grads, tr.clip_grad_norm)
            trainer.optimizer.xnn_lr.assign(lr)
            trainer.optimizer.apply(grads, vars_)
            with tf.control_dependencies([g for g in grads]):
                v1 = version.assign_add(1)
            return loss, v1 - 1 - v0

        return strategy.run(replica, args=(x, y, lr))

    log = StalenessLog(p.max_staleness, exact_bound=False)
    inflight: collections.deque = collections.deque()
    losses: list[float] = []

    def settle(rv) -> None:
        loss, st = rv.fetch()
        losses.append(float(loss))
        log.accept(0, int(st))  # observed: pulled at 0, pushed at st (never refused)

    def drain() -> None:
        _join(coord, p.timeout_s)
        while inflight:
            settle(inflight.popleft())

    out = Path(args.out) if args.out else None
    start_epoch, start_batch, step = 0, 0, 0
    if out is not None and not args.no_resume:
        got = loop.load_latest(out)
        if got is not None:  # weights and optimizer slots live on the ps: assigned from here
            saved, opt, meta = got
            set_params(model, saved)
            trainer.load_optimizer_state(opt)
            start_epoch, start_batch, step = meta["epoch"], meta["batch"], meta["step"]
            print(f"resumed from step {step} (epoch {start_epoch}, batch {start_batch})", flush=True)
    hook = fault_hook(args, 0)  # rank 0 = the chief, the only process running xnn's Python loop
    t0 = time.perf_counter()
    history: list[dict] = []
    for epoch in range(start_epoch, tr.epochs):
        done, n0 = False, len(losses)
        for b, (xb, yb) in enumerate(batches(*data.train, tr.batch_size, tr.seed, epoch, spec.data.shuffle,
                                             augment=spec.data.augment)):
            if epoch == start_epoch and b < start_batch:
                continue
            if args.max_steps is not None and step >= args.max_steps:
                done = True
                break
            xt, yt = trainer._tensors(xb, yb)
            lr = tf.constant(trainer.lr(), tf.float64)
            inflight.append(coord.schedule(step_fn, args=(xt, yt, lr)))
            trainer.step += 1
            step += 1
            hook(step)
            if len(inflight) == p.max_staleness + 1:
                # a window of bound+1 closures, then wait for all of them: a closure can only be
                # overtaken by the others of its window, so its staleness is <= max_staleness
                drain()
        drain()  # the epoch's updates have all landed: the weights are this epoch's end state
        if done:
            break
        history.append({"epoch": epoch, "loss": float(np.mean(losses[n0:])) if losses[n0:] else float("nan")})
        if out is not None and (epoch + 1) % tr.checkpoint_every == 0:
            loop.save_checkpoint(out, step, epoch + 1, 0, get_params(model), trainer.optimizer_state())
    secs = time.perf_counter() - t0
    summary = {"steps": step, "seconds": secs, "loss": losses[-1] if losses else float("nan"), "history": history,
               "staleness": log.summary()}
    if len(data.test[0]):
        summary["test"] = trainer.evaluate(*data.test)
    if out is not None:
        loop.finish_run(out, spec, "keras", data, get_params(model), summary, p.workers + 2)
    print(f"async: {step} updates, staleness {log.summary()}", flush=True)
    return summary


def _join(coord, timeout_s: float) -> None:
    """``coord.join()`` with a deadline. TF's coordinator waits forever for a worker or parameter
    server that stopped answering (it treats it as preempted and waits for it to come back); a
    window of closures that does not finish within ``parallel.timeout_s`` ends the job instead."""
    from ....errors import TrainingError

    end = time.monotonic() + timeout_s
    while not coord.done():  # raises the first error of a scheduled closure
        if time.monotonic() > end:
            raise TrainingError(f"no update finished within parallel.timeout_s = {timeout_s:g} s: a worker or "
                                f"parameter server is not responding")
        time.sleep(0.01)
    coord.join()  # returns at once; raises what done() may have left
