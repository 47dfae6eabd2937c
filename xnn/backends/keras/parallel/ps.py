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
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import time


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
    from ....parallel.staleness import StalenessLog
    from ....train.losses import resolve_class_weights
    from ..build import build, get_params
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

    t0 = time.perf_counter()
    step = 0
    for epoch in range(tr.epochs):
        for xb, yb in batches(*data.train, tr.batch_size, tr.seed, epoch, spec.data.shuffle, augment=spec.data.augment):
            if args.max_steps is not None and step >= args.max_steps:
                break
            xt, yt = trainer._tensors(xb, yb)
            lr = tf.constant(trainer.lr(), tf.float64)
            inflight.append(coord.schedule(step_fn, args=(xt, yt, lr)))
            trainer.step += 1
            step += 1
            if len(inflight) == p.max_staleness + 1:
                # a window of bound+1 closures, then wait for all of them: a closure can only be
                # overtaken by the others of its window, so its staleness is <= max_staleness
                coord.join()
                while inflight:
                    settle(inflight.popleft())
    coord.join()
    while inflight:
        settle(inflight.popleft())
    secs = time.perf_counter() - t0
    summary = {"steps": step, "seconds": secs, "loss": losses[-1] if losses else float("nan"), "staleness": log.summary()}
    if len(data.test[0]):
        summary["test"] = trainer.evaluate(*data.test)
    if args.out:
        from ....parallel.loop import finish_run

        finish_run(args.out, spec, "keras", data, get_params(model), summary, p.workers + 2)
    print(f"async: {step} updates, staleness {log.summary()}", flush=True)
    return summary
