"""``xnn evaluate RUN_DIR [--data FILE]``: loss and metrics of a trained run (default data: the
run's own test split)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ._common import BACKENDS, check_device, default_backend, fmt, load_run, model_outputs, run_preprocess

VERB = "evaluate"
HELP = "print a run's loss and metrics on its test split or on a data file"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", help="run folder written by xnn train")
    p.add_argument("--data", help="data file with targets (.npz/.csv/.mat); default: the run's test split")
    p.add_argument("--backend", choices=(*BACKENDS, "reference"), help="default: the run's backend")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N (checked against what the backend has)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")


def run(args: argparse.Namespace) -> int:
    from ..data import load, read_file
    from ..errors import DataError
    from ..train.losses import evaluate_outputs

    run_dir = Path(args.run_dir)
    spec, params, manifest = load_run(run_dir)
    if args.data:
        pre = run_preprocess(spec, manifest, run_dir)
        x, y = read_file(args.data, spec, pre, need_y=True)
        where = args.data
    else:
        ds = load(spec)
        want = manifest.get("data_sha256")
        if isinstance(want, str) and ds.data_hash != want:
            raise DataError(f"{run_dir / 'manifest.json'}: the spec's data ({spec.data.source}) is no longer the data "
                            f"this run was trained on (sha256 differs), so its test split would be other samples; "
                            f"pass --data FILE")
        x, y = ds.test
        where = "test split"
        if len(x) == 0:
            raise DataError(f"{run_dir}: the run's test split is empty (data.split.test is 0); pass --data FILE")
    backend = args.backend or default_backend(manifest)
    if backend != "reference":
        check_device(backend, args.device)
    z = model_outputs(spec, params, x, backend, args.device)
    metrics = {k: float(v) for k, v in evaluate_outputs(spec.train, z, y).items()}
    if args.json:
        print(json.dumps({"data": where, "n": int(len(x)), "backend": backend, **metrics}, indent=2))
    else:
        print(f"{where}: {len(x)} samples, backend {backend}")
        for k, v in metrics.items():
            print(f"  {k:<10} {fmt(v)}")
    return 0
