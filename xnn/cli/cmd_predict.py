"""``xnn predict RUN_DIR --data FILE [--out FILE] [--output logits|probabilities|labels]``: model
outputs (and class labels) for a file of inputs, written atomically as .npz/.npy/.csv/.mat (.mat in
MATLAB's order: outputs K x N, labels 1 x N, 0-based, with outputs_format/labels_format); never
over the input file. A file that still holds its targets (what ``evaluate --data`` reads) is
accepted: the targets are ignored."""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from ._common import (BACKENDS, check_device, check_output_file, default_backend, load_run, model_outputs, protected_files,
                      run_preprocess, write_predictions)

OUTPUTS = ("logits", "probabilities", "labels")
VERB = "predict"
HELP = "predict with a trained run on a data file (.npz/.npy/.csv/.mat)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_dir", help="run folder written by xnn train")
    p.add_argument("--data", required=True, help="inputs (.npz key x, .npy, .csv columns, .mat variable x)")
    p.add_argument("--out", help="predictions file (.npz/.npy/.csv/.mat); default <data>_pred.npz next to the data")
    p.add_argument("--backend", choices=(*BACKENDS, "reference"), help="default: the run's backend")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N (checked against what the backend has; default cpu)")
    p.add_argument("--output", choices=OUTPUTS, default="logits",
                   help="what to write: logits (the model's outputs; regression values in the target's units), "
                        "probabilities (softmax for cross_entropy, sigmoid for binary_cross_entropy) or labels "
                        "(class indices only); class labels come along with logits and probabilities (default logits)")
    p.add_argument("--force", action="store_true", help="replace an existing --out file (never an input)")


def read_inputs(data: Path, spec, pre):
    """Inputs of ``data``; a file that still holds its target (e.g. a CSV's label column, read as
    ``evaluate --data`` reads it) is accepted and the target left out."""
    from ..data import read_file
    from ..errors import DataError

    try:
        x, _ = read_file(data, spec, pre, need_y=False)
        return x
    except DataError as first:
        try:
            x, _ = read_file(data, spec, pre, need_y=True)
        except DataError:
            raise first from None
        return x


def run(args: argparse.Namespace) -> int:
    from ..errors import DataError, SpecError

    data = Path(args.data)
    out = Path(args.out) if args.out else data.with_name(f"{data.stem}_pred.npz")
    run_dir = Path(args.run_dir)
    if out.suffix.lower() not in (".npz", ".npy", ".csv", ".mat"):
        raise DataError(f"{out}: unknown output type {out.suffix!r}; use .npz, .npy, .csv or .mat")
    check_output_file(out, force=args.force, protected=protected_files(run_dir, (data,)))
    spec, params, manifest = load_run(run_dir)
    loss = spec.train.loss.type
    classify = loss in ("cross_entropy", "binary_cross_entropy") or spec.data.y == "onehot"
    if args.output != "logits" and not classify:
        raise SpecError(f"--output {args.output}: needs a classification run (train.loss cross_entropy or "
                        f"binary_cross_entropy); this run's loss is {loss}", source=str(run_dir))
    pre = run_preprocess(spec, manifest, run_dir)
    x = read_inputs(data, spec, pre)
    backend = args.backend or default_backend(manifest)
    check_device(backend, args.device)
    z = np.asarray(model_outputs(spec, params, x, backend, args.device))
    labels = None
    if loss == "binary_cross_entropy":
        labels = (z > 0).astype(np.int64)
        if args.output == "probabilities":
            z = 1.0 / (1.0 + np.exp(-z.astype(np.float64)))
    elif classify:
        labels = z.argmax(-1).astype(np.int64)
        if args.output == "probabilities":
            e = np.exp(z.astype(np.float64) - z.max(-1, keepdims=True))
            z = e / e.sum(-1, keepdims=True)
    else:
        z = pre.inverse_y(z)
    if args.output == "labels":
        if out.suffix.lower() == ".npy":
            write_predictions(out, labels, None, pre.classes)
        else:
            write_predictions(out, np.zeros((len(labels), 0), z.dtype), labels, pre.classes, spec=spec)
    else:
        write_predictions(out, z, labels, pre.classes, spec=spec)  # .mat: MATLAB's order, samples last
    what = "predictions" if args.output == "logits" else args.output
    print(f"wrote {len(z)} {what} to {out} (backend {backend})")
    return 0
