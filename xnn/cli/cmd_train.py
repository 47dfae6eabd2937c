"""``xnn train SPEC --backend torch|keras --out DIR``: train natively on one backend and write a
run folder (spec.yaml, weights.safetensors, manifest.json, metrics.json, checkpoints/)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ._common import (BACKENDS, add_set, fmt, initial_params, load_spec_cli, quiet_frameworks, require_data,
                      test_metrics)

VERB = "train"
HELP = "train a spec on one backend and write a run folder"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="spec file (.yaml/.json) or run folder")
    p.add_argument("--backend", choices=BACKENDS, default="torch", help="framework to train with (default torch)")
    p.add_argument("--out", required=True, help="run folder to write")
    add_set(p)
    p.add_argument("--epochs", type=int, help="shorthand for --set train.epochs=N")
    p.add_argument("--checkpoint-steps", type=int, metavar="N",
                   help="also checkpoint every N steps inside an epoch (shorthand for --set train.checkpoint_steps=N)")
    p.add_argument("--resume", action="store_true", help="continue from the run folder's last checkpoint")
    p.add_argument("--init", metavar="RUN_OR_FILE",
                   help="fine-tune: start from these weights instead of fresh ones (a run folder, trained or "
                        "imported, or a .safetensors, .onnx or .mat file; names and shapes must match the spec)")
    p.add_argument("--force", action="store_true",
                   help="start afresh in a non-empty --out (the old folder is moved aside, never deleted), "
                        "or resume with a changed spec")
    p.add_argument("--device", help="cpu | cuda | cuda:N (overrides train.device)")
    p.add_argument("--compile", action="store_true",
                   help="compiled train step: torch.compile / XLA jit_compile (shorthand for --set train.compile=true)")
    p.add_argument("--tensorboard", metavar="DIR",
                   help="write TensorBoard event files to DIR (sets train.tensorboard.dir; tags: docs/experiments.md)")
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress")


def overrides_of(args: argparse.Namespace) -> list[str]:
    sets = list(args.overrides)
    if getattr(args, "epochs", None) is not None:
        sets.append(f"train.epochs={args.epochs}")
    if getattr(args, "checkpoint_steps", None) is not None:
        sets.append(f"train.checkpoint_steps={args.checkpoint_steps}")
    if getattr(args, "device", None):
        sets.append(f"train.device={args.device}")
    if getattr(args, "compile", False):
        sets.append("train.compile=true")
    return sets


def with_tensorboard(spec, logdir: str | None):
    """``--tensorboard DIR``: ``train.tensorboard.dir`` set to DIR (the section's other fields kept)."""
    if not logdir:
        return spec
    tb = spec.train.tensorboard
    return spec.with_overrides({"train.tensorboard": {**(tb.model_dump() if tb is not None else {}), "dir": str(logdir)}})


def fit_spec(spec, backend: str, out: Path, resume: bool = False, progress: bool = True, force: bool = False,
             params=None):
    """Call ``xnn.train.fit`` (imports the backend's framework); ``params``: initial weights."""
    quiet_frameworks()
    from ..train import fit

    return fit(spec, backend=backend, out=str(out), resume=resume, progress=progress, force=force, params=params)


def history_line(h: dict) -> str:
    keys = [k for k in ("epoch", "loss", "val_loss", "accuracy", "val_accuracy", "mean_iou", "val_mean_iou", "lr")
            if k in h]
    return "  ".join(f"{k} {fmt(h[k])}" for k in keys)


def run(args: argparse.Namespace) -> int:
    spec = with_tensorboard(load_spec_cli(args.spec, overrides_of(args)), getattr(args, "tensorboard", None))
    require_data(spec, "xnn train")
    if spec.train.device != "cpu":  # one line now, not a traceback or a silent CPU run later
        from ._common import check_device

        check_device(args.backend, spec.train.device)
    if args.init and args.resume:
        from ..errors import SpecError

        raise SpecError("--init and --resume: choose one (--resume continues from the run's own checkpoint)")
    init = initial_params(args.init, spec) if args.init else None
    out = Path(args.out)
    if spec.parallel.mode != "none" and not args.quiet:
        from ..backends.processes import topology

        p = spec.parallel
        what = ("pipeline (model parallel)" if p.mode == "model" else
                "data parallel, synchronous" if p.sync else "data parallel, asynchronous (parameter server)")
        procs, _ = topology(args.backend, spec, lambda: 0)
        print(f"{spec.name}: {what} on {args.backend}, {len(procs)} local process(es)", file=sys.stderr)
    result = fit_spec(spec, args.backend, out, resume=args.resume, progress=not args.quiet, force=args.force,
                      params=init)
    hist = list(getattr(result, "history", []) or [])
    if hist:
        print(f"last epoch: {history_line(hist[-1])}")
    tm = test_metrics(result)
    if tm:
        print("test: " + "  ".join(f"{k} {fmt(v)}" for k, v in tm.items()))
    print(f"run written to {getattr(result, 'run_dir', out)}")
    return 0
