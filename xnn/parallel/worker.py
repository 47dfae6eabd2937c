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
    ap.add_argument("--max-steps", type=int, default=None)
    ap.add_argument("--checkpoint-steps", type=int, default=None)
    ap.add_argument("--no-resume", action="store_true")
    ap.add_argument("--params", default=None, help="initial weights (safetensors)")
    ap.add_argument("--role", default=None, help="internal: ps | worker | chief (TF parameter-server cluster)")
    ap.add_argument("--fail-at-step", type=int, default=None, help="testing: raise at this step on --fail-rank")
    ap.add_argument("--hang-at-step", type=int, default=None, help="testing: sleep forever at this step on --fail-rank")
    ap.add_argument("--kill-at-step", type=int, default=None,
                    help="testing: SIGKILL itself at this step on --fail-rank (first torchrun attempt only)")
    ap.add_argument("--fail-rank", type=int, default=1)
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
        if args.backend == "torch":
            from ..backends.torch.parallel.worker import run_worker
        else:
            from ..backends.keras.parallel.worker import run_worker
        run_worker(args)
        return _end(0, hard_exit)
    except XnnError as e:
        for line in str(e).splitlines():
            print(f"error: [{os.environ.get('RANK') or _who()}] {line}", file=sys.stderr, flush=True)
        return _end(e.exit_code, hard_exit)
    except BaseException as e:  # noqa: BLE001 - one clear line, then non-zero: the launcher stops the rest
        if isinstance(e, SystemExit) and e.code == 143:
            # SIGTERM (the backends' handler exits 143): the launcher is stopping this worker because
            # another one failed; that one's message is the error, this is not a second one
            print(f"stopped: {_who()} (SIGTERM)", file=sys.stderr, flush=True)
            return _end(143, hard_exit)
        if os.environ.get("XNN_TRACEBACK"):
            traceback.print_exc()
        print(f"error: {_who()} failed: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
              file=sys.stderr, flush=True)
        return _end(1, hard_exit)


def check_sizes(spec, data) -> None:
    """Raise SpecError when the loaded data cannot feed the parallel setup (see plan.check_data_size)."""
    from ..errors import SpecError
    from .plan import check_data_size

    errs = check_data_size(spec, len(data.train[0]))
    if errs:
        raise SpecError(errs)


def fault_hook(args: argparse.Namespace, rank: int):
    """Testing aid: a callback for the loop that raises or hangs on ``--fail-rank`` at a step."""
    import signal
    import time

    first_attempt = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")) == 0

    def hook(step: int) -> None:
        if rank != args.fail_rank:
            return
        if args.kill_at_step is not None and step == args.kill_at_step and first_attempt:
            os.kill(os.getpid(), signal.SIGKILL)
        if args.fail_at_step is not None and step == args.fail_at_step:
            raise RuntimeError(f"injected failure at step {step}")
        if args.hang_at_step is not None and step == args.hang_at_step:
            while True:
                time.sleep(1)

    return hook


if __name__ == "__main__":
    main(hard_exit=True)
