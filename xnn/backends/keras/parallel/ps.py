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
forever for a worker that stopped answering). The chief runs :func:`xnn.train.fit` with
:class:`AsyncEngine`: checkpoints (taken once every update handed in has landed), resume,
metrics and test evaluation are fit's.
"""
from __future__ import annotations

import collections
import json
import os
import time

import numpy as np

from .engine import TrainerEngine


def role() -> tuple[str, int]:
    cfg = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    t = cfg.get("task", {})
    return str(t.get("type", "chief")), int(t.get("index", 0))


def serve_forever() -> None:
    """A worker or parameter-server task: a tf.distribute server until the launcher stops it."""
    import tensorflow as tf

    kind, index = role()
    resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
    server = tf.distribute.Server(resolver.cluster_spec(), job_name=kind, task_index=index, protocol="grpc", start=True)
    server.join()


class AsyncEngine(TrainerEngine):
    """The chief's engine for :func:`xnn.train.fit`: each global batch of the single-process order
    becomes one closure on the cluster; ``train_step`` returns the updates of a window once all
    of it has landed, ``flush`` the rest (so checkpoints hold exactly the batches handed in)."""

    def __init__(self, spec, data, params: dict | None = None):
        import tensorflow as tf

        from ....data import n_batches
        from ....parallel.staleness import StalenessLog
        from ....train.losses import resolve_class_weights
        from ..build import build
        from ..train import Trainer, tf_loss

        p, tr = spec.parallel, spec.train
        self.tf, self.spec = tf, spec
        self.world = p.workers + 2  # chief, workers, one parameter server
        resolver = tf.distribute.cluster_resolver.TFConfigClusterResolver()
        self.strategy = tf.distribute.ParameterServerStrategy(resolver)
        self.coord = tf.distribute.coordinator.ClusterCoordinator(self.strategy)
        cw = resolve_class_weights(tr, data.train[1], int(spec.output.out_shape[-1]))
        spe = n_batches(len(data.train[0]), tr.batch_size)
        with self.strategy.scope():
            self.model = build(spec, params, tr.dtype)
            self.trainer = Trainer(spec, self.model, tr.dtype, spe, cw)
            version = tf.Variable(0, dtype=tf.int64, name="xnn_version")
        model, trainer, vars_, strategy = self.model, self.trainer, self.trainer.trainable, self.strategy

        @tf.function
        def step_fn(x, y, lr):
            def replica(x, y, lr):
                v0 = version.read_value()
                with tf.control_dependencies([v0]):
                    with tf.GradientTape() as tape:
                        out = model(x, training=True)
                        loss = tf_loss(tr.loss, out, y, cw)
                trainer.apply_gradients(tape.gradient(loss, vars_), lr)  # the Trainer's own step
                v1 = version.assign_add(1)  # stateful ops run in program order: after the update
                return loss, v1 - 1 - v0, out

            return strategy.run(replica, args=(x, y, lr))

        self._step_fn = step_fn
        self.log = StalenessLog(p.max_staleness, exact_bound=False)
        self.inflight: collections.deque = collections.deque()

    def train_step(self, xb: np.ndarray, yb: np.ndarray) -> list:
        tf = self.tf
        xt, yt = self.trainer.tensors(xb, yb)
        lr = tf.constant(self.trainer.lr(), tf.float64)
        self.inflight.append((self.coord.schedule(self._step_fn, args=(xt, yt, lr)), yb))
        self.trainer.step += 1
        if len(self.inflight) == self.spec.parallel.max_staleness + 1:
            # a window of bound+1 closures, then wait for all of them: a closure can only be
            # overtaken by the others of its window, so its staleness is <= max_staleness
            return self.flush()
        return []

    def flush(self) -> list:
        from ....train.engine import Settled, batch_metrics

        _join(self.coord, self.spec.parallel.timeout_s)
        out = []
        while self.inflight:
            rv, yb = self.inflight.popleft()
            loss, st, outputs = rv.fetch()
            self.log.accept(0, int(st))  # observed: pulled at 0, pushed at st (never refused)
            mets = batch_metrics(self.spec, np.asarray(outputs), yb) if self.spec.train.metrics else {}
            out.append(Settled(float(loss), len(yb), mets))
        return out

    def summary(self) -> dict:
        return self.log.summary()

    def close(self) -> None:
        print(f"async: {self.trainer.step} updates, staleness {self.log.summary()}", flush=True)


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
