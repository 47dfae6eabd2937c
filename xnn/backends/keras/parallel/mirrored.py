"""Synchronous data parallelism with tf.distribute (one process with N replicas, or N processes).

The replica step is the Keras Trainer's, with the loss weighted by the replica's share of the
batch's loss normaliser (the optimizer's own all-reduce then sums the replicas' gradients into
the single-process gradient). With clipping, gradients are all-reduced first so the clip sees
the global norm. BatchNorm statistics are all-reduced across replicas with ``sync_batchnorm``.
"""
from __future__ import annotations

import contextlib
import json
import os

import numpy as np

from ....errors import TrainingError
from ....parallel.plan import loss_norm, shard
from .engine import TrainerEngine


def logical_cpus(n: int) -> None:
    """Split the host CPU into ``n`` logical devices (must run before TF initialises)."""
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(n)])


def make_strategy(spec):
    """MultiWorkerMirroredStrategy when ``TF_CONFIG`` names several workers, else MirroredStrategy
    over ``parallel.devices`` (default: ``workers`` logical CPUs, or the GPUs)."""
    import tensorflow as tf

    cfg = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    if len(cfg.get("cluster", {}).get("worker", [])) > 1:
        opts = tf.distribute.experimental.CommunicationOptions(timeout_seconds=float(spec.parallel.timeout_s))
        return tf.distribute.MultiWorkerMirroredStrategy(communication_options=opts)
    p = spec.parallel
    if p.devices:
        devs = [d.replace("cuda:", "/GPU:").replace("cpu:", "/CPU:") if not d.startswith("/") else d for d in p.devices]
    elif tf.config.list_logical_devices("GPU"):
        devs = [d.name for d in tf.config.list_logical_devices("GPU")][: p.workers]
    else:
        have = tf.config.list_logical_devices("CPU")
        if len(have) < p.workers:
            logical_cpus(p.workers)  # raises RuntimeError when TF is already initialised
            have = tf.config.list_logical_devices("CPU")
        devs = [d.name for d in have][: p.workers]
    return tf.distribute.MirroredStrategy(devs)


def sync_batchnorm(model) -> int:
    """Make every XnnBatchNorm take its statistics over all replicas (in place); returns how many."""
    from ..layers.batchnorm import XnnBatchNorm

    cls = _sync_class()
    n = 0
    for layer in model.layers:
        if type(layer) is XnnBatchNorm:
            layer.__class__ = cls  # same weights and config; only call() changes
            n += 1
    return n


def _make_sync_class():
    import tensorflow as tf
    from keras import ops

    from ..layers.batchnorm import XnnBatchNorm

    class SyncXnnBatchNorm(XnnBatchNorm):
        """XnnBatchNorm with global (all replicas) batch statistics: two-pass sums, all-reduced."""

        def call(self, x, training=None):
            ctx = tf.distribute.get_replica_context()
            if not (training and self.trainable) or ctx is None or ctx.num_replicas_in_sync == 1:
                return super().call(x, training=training)
            axes = tuple(range(len(x.shape) - 1))
            n_local = tf.cast(tf.size(x) // x.shape[-1], x.dtype)
            s = ctx.all_reduce(tf.distribute.ReduceOp.SUM, tf.concat([tf.reduce_sum(x, axes), [n_local]], 0))
            n = s[-1]
            mean = s[:-1] / n
            xc = x - mean
            var = ctx.all_reduce(tf.distribute.ReduceOp.SUM, tf.reduce_sum(xc * xc, axes)) / n
            m = self.momentum
            self.running_mean.assign((1.0 - m) * self.running_mean + m * mean)
            self.running_var.assign((1.0 - m) * self.running_var + m * var * n / (n - 1.0))
            return xc / ops.sqrt(var + self.eps) * self.weight + self.bias

    return SyncXnnBatchNorm


_SYNC_CLS: list = []


def _sync_class():
    """The synchronised BatchNorm class, made on first use (TF imported lazily)."""
    if not _SYNC_CLS:
        _SYNC_CLS.append(_make_sync_class())
    return _SYNC_CLS[0]


class MirroredEngine(TrainerEngine):
    """fit's engine (:mod:`xnn.train.engine`): the Keras Trainer under ``strategy.run``. With
    several worker processes (MultiWorkerMirroredStrategy) every rank holds the same weights, so
    each evaluates by itself and takes the same decisions without exchanging them."""

    def __init__(self, spec, data, params: dict | None = None, strategy=None):
        import tensorflow as tf

        from ....data import n_batches
        from ..build import build
        from ..train import Trainer

        self.tf = tf
        self.spec = spec
        self.strategy = strategy or make_strategy(spec)
        self.n = self.strategy.num_replicas_in_sync
        cfg = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
        self.multi = len(cfg.get("cluster", {}).get("worker", [])) > 1
        self.rank = int(cfg.get("task", {}).get("index", 0)) if self.multi else 0
        self.world = len(cfg["cluster"]["worker"]) if self.multi else 1
        k = int(spec.output.out_shape[-1])
        from ....train.losses import resolve_class_weights

        self.cw = resolve_class_weights(spec.train, data.train[1], k)
        with self.strategy.scope():
            self.model = build(spec, params, spec.train.dtype)
            if spec.parallel.sync_batchnorm:
                sync_batchnorm(self.model)
            self.trainer = Trainer(spec, self.model, spec.train.dtype,
                                   n_batches(len(data.train[0]), spec.train.batch_size), self.cw)
        self._step = tf.function(self._replica_step, reduce_retracing=True)

    def _replica_step(self, x, y, w, lr):
        tf = self.tf
        from ..train import clip_by_global_norm, tf_loss

        t = self.trainer
        with tf.GradientTape() as tape:
            out = t.model(x, training=True)
            loss = tf_loss(t.train.loss, out, y, t.class_weights) * tf.cast(w, out.dtype)
        def clip_global(grads, max_norm):  # the clip must see the all-reduced (global) gradient
            ctx = tf.distribute.get_replica_context()
            grads = clip_by_global_norm(ctx.all_reduce(tf.distribute.ReduceOp.SUM, grads), max_norm)
            return [g / ctx.num_replicas_in_sync for g in grads]  # the optimizer sums them again

        t.apply_gradients(tape.gradient(loss, t.trainable), lr, clip=clip_global)
        return loss, out

    def _shards(self, xb, yb):
        total = loss_norm(self.spec, yb, self.cw)
        if self.multi:  # one replica per worker process
            xr, yr = shard(xb, yb, self.rank, self.world)
            return [(xr, yr, loss_norm(self.spec, yr, self.cw) / total)]
        out = []
        for r in range(self.n):
            xr, yr = shard(xb, yb, r, self.n)
            out.append((xr, yr, loss_norm(self.spec, yr, self.cw) / total))
        return out

    def train_step(self, xb: np.ndarray, yb: np.ndarray) -> list:
        from ....train.engine import Settled, batch_metrics

        tf = self.tf
        t = self.trainer
        shards = self._shards(xb, yb)
        parts = [(*t.tensors(xr, yr), tf.constant(w, tf.float64)) for xr, yr, w in shards]
        if self.multi:
            args = parts[0]
        else:
            args = tuple(self.strategy.experimental_distribute_values_from_function(lambda ctx, i=i: parts[ctx.replica_id_in_sync_group][i])
                         for i in range(3))
        lr = tf.constant(t.lr(), tf.float64)
        with self._collectives():
            per, outs = self.strategy.run(self._step, args=(*args, lr))
            loss = self.strategy.reduce(tf.distribute.ReduceOp.SUM, per, axis=None)
        t.step += 1
        names = self.spec.train.metrics
        if not names:
            return [Settled(float(loss.numpy()), len(xb))]
        local = np.concatenate([o.numpy() for o in self.strategy.experimental_local_results(outs)])
        ys = np.concatenate([yr for _, yr, _ in shards])  # this process's shards, in replica order
        mets = batch_metrics(self.spec, local, ys) if len(ys) else {m: 0.0 for m in names}
        sums = [mets[m] * len(ys) for m in names]
        if self.multi:
            with self._collectives():
                sums = self._allsum(sums)
        return [Settled(float(loss.numpy()), len(xb), {m: v / len(xb) for m, v in zip(names, sums)})]

    def _allsum(self, values: list[float]) -> list[float]:
        tf = self.tf
        v = tf.constant(values, tf.float64)
        got = self.strategy.reduce(tf.distribute.ReduceOp.SUM, self.strategy.run(lambda: tf.identity(v)), axis=None)
        return [float(a) for a in got.numpy()]

    def barrier(self) -> None:
        if self.multi:  # a tiny all-reduce is MWMS's barrier
            with self._collectives():
                self.strategy.reduce(self.tf.distribute.ReduceOp.SUM,
                                     self.strategy.run(lambda: self.tf.constant(1.0)), axis=None)

    @contextlib.contextmanager
    def _collectives(self):
        """A collective that failed because of a peer is one clear TrainingError line (TF's own
        text starts with 'Graph execution error:' and a stack of node definitions)."""
        err = self.tf.errors
        try:
            yield
        except err.DeadlineExceededError:
            raise TrainingError(f"a collective did not finish within parallel.timeout_s = "
                                f"{self.spec.parallel.timeout_s:g} s: a peer worker is hung or too slow") from None
        except (err.UnavailableError, err.CancelledError) as e:
            raise TrainingError(f"lost contact with a peer worker ({type(e).__name__}): it exited or the "
                                f"network failed") from None

