"""Model parallelism on Keras: each stage a Keras model built from its stage spec
(:func:`xnn.parallel.plan.stage_specs`) and placed with ``tf.device`` on ``parallel.devices[i]``
(default: logical CPUs ``/CPU:i``); the batch split into ``microbatches``, GPipe order (all
forwards, then backwards) inside one ``tf.function``, whose dataflow executor overlaps stage i of
microbatch m+1 with stage i+1 of microbatch m. Each microbatch's loss is weighted by its share of
the batch's normaliser, gradients accumulate, clipping uses the global norm over every stage, and
each stage's own xnn optimizer applies its update: a step equals the unsplit step.
"""
from __future__ import annotations

import numpy as np

from ....parallel.plan import loss_norm, resolve_stages, split_counts, stage_specs
from ....train.engine import EngineBase


class PipelineEngine(EngineBase):

    def __init__(self, spec, data, params: dict | None = None):
        import tensorflow as tf

        from ....data import n_batches
        from ....init import init_params
        from ....train.losses import resolve_class_weights
        from ..build import build
        from ..train import Trainer

        if spec.parallel.schedule != "gpipe":
            from ....errors import SpecError

            raise SpecError(f"parallel.schedule: keras runs gpipe only (received {spec.parallel.schedule!r}); "
                            "1f1b needs torch.distributed.pipelining (--backend torch)")
        self.tf, self.spec = tf, spec
        self.stages = resolve_stages(spec)
        self.subs = stage_specs(spec, self.stages)
        p = spec.parallel
        cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
        self.devices = [d.replace("cuda:", "/GPU:") if not d.startswith("/") else d for d in p.devices] if p.devices \
            else [cpus[i % len(cpus)] for i in range(len(self.stages))]
        full = params if params is not None else init_params(spec)
        self.cw = resolve_class_weights(spec.train, data.train[1], int(spec.output.out_shape[-1]))
        spe = n_batches(len(data.train[0]), spec.train.batch_size)
        self.models, self.trainers = [], []
        for sub, dev in zip(self.subs, self.devices):
            with tf.device(dev):
                mine = {k: v for k, v in full.items() if k.split(".", 1)[0] in sub.node_map}
                m = build(sub, mine, spec.train.dtype)
                self.models.append(m)
                self.trainers.append(Trainer(sub, m, spec.train.dtype, spe, self.cw if sub is self.subs[-1] else None))
        self.step_count = 0
        self._fn = tf.function(self._step, reduce_retracing=True)

    def _step(self, xs, ys, ws, lr):
        tf = self.tf
        from ..train import clip_by_global_norm, tf_loss

        all_vars = [v for t in self.trainers for v in t.trainable]
        acc = [tf.zeros_like(v) for v in all_vars]
        total = tf.constant(0.0, tf.float64)
        outs = []
        # GPipe: microbatch m's forward through every stage, then its backward; the tf.function
        # graph has no dependency between microbatches except the gradient sums
        for x, y, w in zip(xs, ys, ws):
            with tf.GradientTape() as tape:
                h = x
                for m, dev in zip(self.models, self.devices):
                    with tf.device(dev):
                        h = m(h, training=True)
                loss = tf_loss(self.spec.train.loss, h, y, self.cw) * tf.cast(w, h.dtype)
            grads = tape.gradient(loss, all_vars)
            acc = [a if g is None else a + g for a, g in zip(acc, grads)]
            total += tf.cast(loss, tf.float64)
            outs.append(h)
        if self.spec.train.clip_grad_norm is not None:
            acc = clip_by_global_norm(acc, self.spec.train.clip_grad_norm)
        i = 0
        for t, dev in zip(self.trainers, self.devices):
            k = len(t.trainable)
            with tf.device(dev):  # each stage's own step on its part (already clipped globally)
                t.apply_gradients(acc[i:i + k], lr, clip=lambda g, max_norm: g)
            i += k
        return total, outs

    @property
    def step(self) -> int:
        return self.trainers[0].step

    def lr(self) -> float:
        return float(self.trainers[0].lr())

    def train_step(self, xb: np.ndarray, yb: np.ndarray) -> list:
        from ....train.engine import Settled, batch_metrics

        tf = self.tf
        t0 = self.trainers[0]
        total = loss_norm(self.spec, yb, self.cw)
        xs, ys, ws = [], [], []
        a = 0
        for c in split_counts(len(xb), self.spec.parallel.microbatches):
            xt, yt = t0.tensors(xb[a:a + c], yb[a:a + c])
            xs.append(xt)
            ys.append(yt)
            ws.append(tf.constant(loss_norm(self.spec, yb[a:a + c], self.cw) / total, tf.float64))
            a += c
        lr = tf.constant(t0.lr(), tf.float64)
        loss, outs = self._fn(xs, ys, ws, lr)
        for t in self.trainers:
            t.step += 1
        mets = batch_metrics(self.spec, np.concatenate([o.numpy() for o in outs]), yb) if self.spec.train.metrics else {}
        return [Settled(float(loss.numpy()), len(xb), mets)]

    def get_params(self) -> dict[str, np.ndarray]:
        from ..build import get_params

        out: dict[str, np.ndarray] = {}
        for m in self.models:
            out.update(get_params(m))
        return out

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        from ..build import set_params

        for m, sub in zip(self.models, self.subs):
            set_params(m, {k: v for k, v in params.items() if k.split(".", 1)[0] in sub.node_map})

    def state(self) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        for i, t in enumerate(self.trainers):
            out.update(t.optimizer_state())
            out.update({f"{k}.stage{i}": v for k, v in t.rng_state().items()})
        return out

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        for i, (t, sub) in enumerate(zip(self.trainers, self.subs)):
            t.load_optimizer_state({k: v for k, v in state.items() if k == "step" or k.split(".", 1)[0] in sub.node_map})
            t.load_rng_state({k[:-len(f".stage{i}")]: v for k, v in state.items() if k.endswith(f".stage{i}")})

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        from ....train.losses import evaluate_outputs
        from ..build import predict

        h = x
        for m in self.models:
            h = predict(m, h)
        return evaluate_outputs(self.spec.train, h, y, self.cw)
