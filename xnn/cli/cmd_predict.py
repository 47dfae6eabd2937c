"""``xnn predict RUN_DIR --data FILE [--out FILE]``: model outputs (and class labels) for a file of
inputs, written atomically as .npz/.npy/.csv/.mat; never over the input file."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ._common import (BACKENDS, check_output_file, default_backend, load_run, model_outputs, protected_files,
                      run_preprocess, write_predictions)

VERB = "predict"
HELP = "predict with a trained run on a data file (.npz/.npy/.csv/.mat)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", help="run folder written by xnn train")
    p.add_argument("--data", required=True, help="inputs (.npz key x, .npy, .csv columns, .mat variable x)")
    p.add_argument("--out", help="predictions file (.npz/.npy/.csv/.mat); default <data>_pred.npz next to the data")
    p.add_argument("--backend", choices=(*BACKENDS, "reference"), help="default: the run's backend")
    p.add_argument("--device", default="cpu")
    p.add_argument("--force", action="store_true", help="replace an existing --out file (never an input)")


def run(args: argparse.Namespace) -> int:
    from ..data import read_file
    from ..errors import DataError

    data = Path(args.data)
    out = Path(args.out) if args.out else data.with_name(f"{data.stem}_pred.npz")
    run_dir = Path(args.run_dir)
    if out.suffix.lower() not in (".npz", ".npy", ".csv", ".mat"):
        raise DataError(f"{out}: unknown output type {out.suffix!r}; use .npz, .npy, .csv or .mat")
    check_output_file(out, force=args.force, protected=protected_files(run_dir, (data,)))
    spec, params, manifest = load_run(run_dir)
    pre = run_preprocess(spec, manifest, run_dir)
    x, _ = read_file(data, spec, pre, need_y=False)
    backend = args.backend or default_backend(manifest)
    z = np.asarray(model_outputs(spec, params, x, backend, args.device))
    labels = None
    loss = spec.train.loss.type
    if loss == "cross_entropy" or spec.data.y == "onehot":
        labels = z.argmax(-1).astype(np.int64)
    elif loss == "binary_cross_entropy":
        labels = (z > 0).astype(np.int64)
    else:
        z = pre.inverse_y(z)
    write_predictions(out, z, labels, pre.classes)
    print(f"wrote {len(z)} predictions to {out} (backend {backend})")
    return 0
