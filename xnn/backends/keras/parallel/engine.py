"""Keras's engines for :func:`xnn.train.fit` (protocol: :mod:`xnn.train.engine`), one per
``parallel.mode``: MirroredStrategy / MultiWorkerMirroredStrategy (sync), ``tf.device`` stages
(model), ParameterServerStrategy (async: the chief's engine; workers and parameter servers
serve). TF must be configured before it initialises, so this runs first in a worker process.
"""
from __future__ import annotations

import json
import os

from ....train.engine import EngineBase


class TrainerEngine(EngineBase):
    """What the Keras engines built on one ``Trainer`` (``self.trainer``, ``self.model``) share:
    position, lr, evaluation, weights and state through the Trainer; every process that runs fit
    holds the same weights, so decisions need no exchange."""

    @property
    def step(self) -> int:
        return self.trainer.step

    def lr(self) -> float:
        return float(self.trainer.lr())

    def evaluate(self, x, y) -> dict[str, float]:
        return self.trainer.evaluate(x, y)

    def get_params(self) -> dict:
        from ..build import get_params

        return get_params(self.model)

    def set_params(self, params: dict) -> None:
        from ..build import set_params

        set_params(self.model, params)

    def state(self) -> dict:
        return {**self.trainer.optimizer_state(), **self.trainer.rng_state()}

    def load_state(self, state: dict) -> None:
        self.trainer.load_optimizer_state(state)
        self.trainer.load_rng_state(state)

class _Server:
    """A parameter-server cluster's worker or ps task: nothing to drive, it serves."""

    rank, world = 1, 1

    def serve(self, after_step=None) -> None:
        from .ps import serve_forever

        serve_forever()

    def close(self) -> None:
        pass


def engine(spec, data, params: dict | None = None):
    """The engine for ``spec.parallel`` in this process (or a server to ``serve()``)."""
    p = spec.parallel
    cfg = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    if p.mode == "data" and not p.sync:
        from .ps import role

        if role()[0] in ("worker", "ps"):
            return _Server()
    from ....parallel.plan import resolve_stages
    from .mirrored import logical_cpus

    n_dev = 1
    if p.mode == "data" and p.sync and len(cfg.get("cluster", {}).get("worker", [])) <= 1:
        n_dev = p.workers
        logical_cpus(p.workers)  # before TF initialises
    if p.mode == "model":
        n_dev = len(resolve_stages(spec))
        logical_cpus(n_dev)
    from ..train import configure

    configure(spec.train)
    if spec.train.threads and n_dev > 1:
        # replicas / stages run as concurrent ops: one inter-op thread each, `threads` inside each
        import tensorflow as tf

        try:
            tf.config.threading.set_inter_op_parallelism_threads(n_dev)
        except RuntimeError:
            pass
    if p.mode == "data" and not p.sync:
        from .ps import AsyncEngine

        return AsyncEngine(spec, data, params)
    if p.mode == "data":
        from .mirrored import MirroredEngine

        return MirroredEngine(spec, data, params)
    if p.mode == "model":
        from .pipeline import PipelineEngine

        return PipelineEngine(spec, data, params)
    raise ValueError("parallel.mode is none: fit runs the single-process engine itself")
