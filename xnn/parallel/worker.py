"""One worker of a parallel run: ``python -m xnn.parallel.worker --backend B --spec S --out DIR``.

Started N times by ``xnn train`` (one machine) or by torchrun / a TF_CONFIG launcher (several
machines). Rank and world come from the environment (``RANK``/``WORLD_SIZE``/``MASTER_*`` for
torch, ``TF_CONFIG`` for tf.distribute). Any error ends the worker with a one-line message and
exit code 1, which makes the launcher stop every other worker. A worker started by xnn's own
launcher also dies when that launcher dies (``xnn.parallel.lifetime``).
"""
from __future__ import annotations

import argparse
import os
import sys
import traceback


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="xnn.parallel.worker")
    ap.add_argument("--backend", choices=["torch", "keras"], required=True)
    ap.add_argument("--spec", required=True, help="spec file (YAML/JSON) or run folder")
    ap.add_argument("--out", default=None, help="run folder (checkpoints, weights, metrics)")
    ap.add_argument("--set", action="append", default=[], help="dotted.path=value overrides")
    ap.add_argument("--max-steps", type=int, default=None, help="stop after this many global steps")
    ap.add_argument("--checkpoint-steps", type=int, default=None, help="also checkpoint every N global steps")
    ap.add_argument("--params", default=None, help="initial weights (safetensors)")
    ap.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    return ap.parse_args(argv)


def _who() -> str:
    """This process in messages: ``worker rank R`` (torch) or the TF_CONFIG task (``worker 1``, ``chief 0``)."""
    if os.environ.get("RANK") is not None:
        return f"worker rank {os.environ['RANK']}"
    import json

    try:
        task = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}").get("task", {})
    except ValueError:
        task = {}
    return f"{task['type']} {task.get('index', 0)}" if task.get("type") else "worker ?"


def _end(code: int, hard_exit: bool) -> int:
    if hard_exit:
        # leave now, before the traceback (and the DDP / process-group objects it holds) is freed:
        # their destructors may wait on a peer that is gone or hung
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def main(argv: list[str] | None = None, hard_exit: bool = False) -> int:
    from .lifetime import watch_launcher

    watch_launcher()  # started by xnn's launcher: die with it, even after its kill -9 (no-op otherwise)
    args = parse(argv)
    from ..errors import XnnError

    try:
        run_worker(args)
        return _end(0, hard_exit)
    except XnnError as e:
        for line in str(e).splitlines():
            print(f"error: [{_who()}] {line}", file=sys.stderr, flush=True)
        return _end(e.exit_code, hard_exit)
    except BaseException as e:  # noqa: BLE001 - one clear line, then non-zero: the launcher stops the rest
        if isinstance(e, SystemExit) and e.code == 143:
            # SIGTERM (the handler below exits 143): the launcher is stopping this worker because
            # another one failed; that one's message is the error, this is not a second one
            print(f"stopped: {_who()} (SIGTERM)", file=sys.stderr, flush=True)
            return _end(143, hard_exit)
        if os.environ.get("XNN_TRACEBACK"):
            traceback.print_exc()
        print(f"error: {_who()} failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
              file=sys.stderr, flush=True)
        return _end(1, hard_exit)


def run_worker(args: argparse.Namespace):
    """Load the spec and data, ask the backend for this process's engine, run :func:`xnn.train.fit`
    with it (or, for a server process of an asynchronous run, serve until stopped)."""
    import signal
    import warnings

    from .. import backends
    from ..data import load
    from ..spec import load_spec
    from ..train import fit
    from ..weights import load_weights
    from .faults import hook_from_env

    # SIGTERM from the launcher ends the worker through normal exception handling
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sets = list(args.set or [])
    if args.checkpoint_steps:
        sets.append(f"train.checkpoint_steps={args.checkpoint_steps}")
    spec = load_spec(args.spec, sets or None)
    be = backends.get(args.backend)
    data = load(spec)
    check_sizes(spec, data)
    params = load_weights(args.params, spec) if args.params else None
    engine = be.engine(spec, data, params)
    hook = hook_from_env(engine.rank)
    if engine.rank != 0:  # one copy of each framework warning, from rank 0
        warnings.filterwarnings("ignore")
    try:
        if hasattr(engine, "serve"):
            engine.serve(after_step=hook)
            return None
        return fit(spec, args.backend, data=data, out=args.out, resume="auto", progress=not args.quiet,
                   callback=(lambda info: hook(info["step"])) if hook else None, max_steps=args.max_steps,
                   engine=engine)
    finally:
        engine.close()


def check_sizes(spec, data) -> None:
    """Raise SpecError when the loaded data cannot feed the parallel setup (see plan.check_data_size)."""
    from ..errors import SpecError
    from .plan import check_data_size

    errs = check_data_size(spec, len(data.train[0]))
    if errs:
        raise SpecError(errs)


if __name__ == "__main__":
    main(hard_exit=True)
