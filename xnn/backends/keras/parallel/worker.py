"""The Keras side of ``python -m xnn.parallel.worker``."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys

from ....errors import TrainingError
from ....parallel import loop
from ....parallel.worker import check_sizes, fault_hook


def run_worker(args: argparse.Namespace) -> dict:
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    from ....spec import load_spec

    spec = load_spec(args.spec, args.set or None)
    p = spec.parallel
    cfg = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    if p.mode == "data" and p.sync and len(cfg.get("cluster", {}).get("worker", [])) <= 1:
        from .mirrored import logical_cpus

        logical_cpus(p.workers)  # before TF initialises
    if p.mode == "model":
        from .mirrored import logical_cpus

        from ....parallel.plan import resolve_stages

        logical_cpus(len(resolve_stages(spec)))
    from ....data import load
    from ....weights import load_weights
    from ..train import configure

    configure(spec.train)
    if spec.train.threads and (p.mode == "model" or (p.mode == "data" and p.sync)):
        # replicas / stages run as concurrent ops: one inter-op thread each, `threads` inside each
        import tensorflow as tf

        from ....parallel.plan import resolve_stages

        n_dev = p.workers if p.mode == "data" else len(resolve_stages(spec))
        try:
            tf.config.threading.set_inter_op_parallelism_threads(n_dev)
        except RuntimeError:
            pass
    data = load(spec)
    check_sizes(spec, data)
    params = load_weights(args.params, spec) if args.params else None
    if p.mode == "data" and not p.sync:
        from .ps import run_async

        return run_async(spec, data, params, args)
    if p.mode == "data":
        from .mirrored import MirroredEngine

        engine = MirroredEngine(spec, data, params)
    else:
        from .pipeline import PipelineEngine

        engine = PipelineEngine(spec, data, params)
    try:
        return loop.run(spec, data, engine, args.out, max_steps=args.max_steps, resume=not args.no_resume,
                        checkpoint_steps=args.checkpoint_steps, progress=lambda m: print(m, flush=True),
                        after_step=fault_hook(args, engine.rank), backend="keras")
    except (tf_errors().DeadlineExceededError, tf_errors().UnavailableError, tf_errors().CancelledError) as e:
        raise TrainingError(peer_message(e, p.timeout_s)) from None


def tf_errors():
    import tensorflow as tf

    return tf.errors


def peer_message(e: Exception, timeout_s: float) -> str:
    """One clear line for a collective that failed because of a peer (TF's own text starts with
    'Graph execution error:' and a stack of node definitions)."""
    if isinstance(e, tf_errors().DeadlineExceededError):
        return (f"a collective did not finish within parallel.timeout_s = {timeout_s:g} s: "
                f"a peer worker is hung or too slow")
    return f"lost contact with a peer worker ({type(e).__name__}): it exited or the network failed"
