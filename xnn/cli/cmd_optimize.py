"""``xnn optimize RUN --quantize dynamic|static [--calibration N] [--out FILE.onnx]`` and
``xnn optimize RUN --prune SPARSITY [--scope global|layer] [--finetune-epochs E] --out NEW_RUN``.

Quantization writes an int8 ONNX model of the run (onnxruntime.quantization: dynamic, or static
QDQ calibrated on the run's training split); pruning zeroes the smallest Dense/convolution weights
and fine-tunes with the zeros kept, into a new run folder. Both print the model before and after
side by side: the spec's loss and metrics on the run's test split, file sizes and ONNX Runtime
inference time (docs/tuning.md). The run's own files are never written."""
from __future__ import annotations

import argparse
import json

from ._common import BACKENDS

VERB = "optimize"
HELP = "int8-quantize (ONNX Runtime) or magnitude-prune a trained run; prints accuracy, size and speed before/after"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", help="run folder written by xnn train")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--quantize", choices=["dynamic", "static"], help="post-training int8 quantization of the ONNX export")
    what.add_argument("--prune", type=float, metavar="SPARSITY", help="fraction of Dense/conv weights to zero, in [0, 1)")
    p.add_argument("--calibration", type=int, default=256, metavar="N",
                   help="static: training samples for calibration (default 256)")
    p.add_argument("--scope", choices=["global", "layer"], default="global",
                   help="prune: smallest weights over all layers (global, default) or the same fraction in each")
    p.add_argument("--finetune-epochs", type=int, default=1, metavar="E",
                   help="prune: epochs of fine-tuning with the pruned weights held at zero (default 1; 0: none)")
    p.add_argument("--backend", choices=BACKENDS, help="prune: fine-tune on this backend (default: the run's)")
    p.add_argument("--out", help="quantize: the .onnx file (default RUN/model_int8_<mode>.onnx); prune: the new run folder (required)")
    p.add_argument("--force", action="store_true",
                   help="replace an existing --out file / move an existing --out folder aside (never the run's own files)")
    p.add_argument("--batch", type=int, default=64, help="inference batch for the timing (default 64)")
    p.add_argument("--repeats", type=int, default=50, help="timed runs of each model (default 50, interleaved)")
    p.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads for both models (default 1)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--quiet", action="store_true", help="no per-epoch fine-tuning progress")


def run(args: argparse.Namespace) -> int:
    from ..errors import SpecError
    from ..optimize.measure import format_report

    for flag, v, lo in (("--batch", args.batch, 1), ("--repeats", args.repeats, 1), ("--threads", args.threads, 1),
                        ("--calibration", args.calibration, 1)):
        if v < lo:
            raise SpecError(f"{flag}: must be >= {lo} (received {v})")
    timing = {"batch": args.batch, "repeats": args.repeats, "threads": args.threads}
    if args.quantize:
        from ..optimize.quantize import quantize_run

        rep = quantize_run(args.run_dir, args.quantize, out=args.out, calibration=args.calibration,
                           force=args.force, **timing)
        wrote = f"wrote {rep['out']} (int8 {args.quantize})"
    else:
        if not args.out:
            raise SpecError("--prune: needs --out NEW_RUN (the pruned run folder; the run itself is never changed)")
        from ..optimize.prune import prune_run

        rep = prune_run(args.run_dir, args.prune, args.out, scope=args.scope, finetune_epochs=args.finetune_epochs,
                        backend=args.backend, force=args.force, progress=not args.quiet and not args.json, **timing)
        p = rep["pruning"]
        wrote = (f"wrote run {rep['out']}: {p['zeros']:,} of {p['prunable']:,} Dense/conv weights are zero "
                 f"({p['sparsity'] * 100:.2f} %, {p['scope']}), {p['finetune_epochs']} fine-tuning epoch(s) on {p['backend']}")
    if args.json:
        print(json.dumps(rep, indent=2))
    else:
        print(format_report(rep))
        print(wrote)
    return 0
