"""The torch side of ``python -m xnn.parallel.worker``: pick the engine for ``parallel.mode``."""
from __future__ import annotations

import argparse
import signal
import sys

from ....data import load
from ....parallel import loop
from ....parallel.worker import check_sizes, fault_hook
from ....spec import load_spec
from ....weights import load_weights
from ..train import configure


def run_worker(args: argparse.Namespace) -> dict:
    # SIGTERM from the launcher ends the worker through normal exception handling
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    spec = load_spec(args.spec, args.set or None)
    configure(spec.train)
    data = load(spec)
    check_sizes(spec, data)
    params = load_weights(args.params, spec) if args.params else None
    p = spec.parallel
    if p.mode == "data" and p.sync:
        from .engine import DataEngine

        engine = DataEngine(spec, data, params)
    elif p.mode == "data":
        from .ps import run_async

        return run_async(spec, data, params, args)
    elif p.mode == "model":
        from .pipeline import PipelineEngine

        engine = PipelineEngine(spec, data, params)
    else:
        raise SystemExit("parallel.mode is none: run xnn train without the parallel worker")
    try:
        return loop.run(spec, data, engine, args.out, max_steps=args.max_steps, resume=not args.no_resume,
                        checkpoint_steps=args.checkpoint_steps, progress=lambda m: print(m, flush=True),
                        after_step=fault_hook(args, engine.rank))
    finally:
        engine.close()
