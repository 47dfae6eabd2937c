"""Each backend's process topology for a parallel run on one machine, without importing any
framework (the launcher starts the processes before a framework loads). A topology is a list of
``(name, environment)`` per process and the index of the primary process (whose exit ends a job
of servers that never return by themselves), or None."""
from __future__ import annotations

from typing import Callable

Topology = tuple[list[tuple[str, dict[str, str]]], int | None]


def _torch(spec, free_port: Callable[[], int]) -> Topology:
    from ..parallel.launch import torch_env
    from ..parallel.plan import resolve_stages

    p = spec.parallel
    if p.mode == "model":
        n = len(resolve_stages(spec))
    else:
        n = p.workers + (0 if p.sync else 1)  # async: one parameter server + the workers
    port = free_port()
    names = ["parameter server" if (not p.sync and p.mode == "data" and r == 0) else f"worker rank {r}" for r in range(n)]
    return [(names[r], torch_env(r, n, port)) for r in range(n)], None


def _keras(spec, free_port: Callable[[], int]) -> Topology:
    from ..parallel.launch import tf_config

    p = spec.parallel
    if p.mode == "data" and not p.sync:  # TF parameter-server cluster: chief, workers, one ps
        def hosts(k: int) -> list[str]:
            return [f"127.0.0.1:{free_port()}" for _ in range(k)]

        cluster = {"chief": hosts(1), "worker": hosts(p.workers), "ps": hosts(1)}
        tasks = [("chief", 0)] + [("worker", i) for i in range(p.workers)] + [("ps", 0)]
        return [(f"{t} {i}", tf_config(cluster, t, i)) for t, i in tasks], 0
    # MirroredStrategy / tf.device stages: one process, several (logical) devices
    return [("worker 0", {})], None


_TOPOLOGY = {"torch": _torch, "keras": _keras}


def topology(backend: str, spec, free_port: Callable[[], int]) -> Topology:
    """The processes ``backend`` runs for ``spec.parallel`` on one machine."""
    return _TOPOLOGY[backend](spec, free_port)
