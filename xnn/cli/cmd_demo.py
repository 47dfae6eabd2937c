"""``xnn demo``: train the bundled ``digits_cnn.yaml`` on torch and Keras, compare the curves,
print each backend's test accuracy. Runs from any folder (the YAML ships inside the package)."""
from __future__ import annotations

import argparse
import shutil
import tempfile
from importlib import resources
from pathlib import Path

VERB = "demo"
HELP = "train the bundled digits CNN on both backends and compare them"
TARGET = 0.95


def example_path(name: str = "digits_cnn.yaml") -> Path:
    """Path of a YAML example shipped inside the package (``xnn/examples/``)."""
    p = resources.files("xnn") / "examples" / name
    return Path(str(p))


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", help="folder for the runs (default: a new temporary folder)")
    p.add_argument("--epochs", type=int, help="override train.epochs")
    p.add_argument("--force", action="store_true", help="use a non-empty --out (the old folder is moved aside)")
    p.add_argument("--plot", help="PNG of the loss curves (default: OUT/compare.png)")
    p.add_argument("--quiet", action="store_true", help="no per-epoch training progress")


def run(args: argparse.Namespace) -> int:
    from ..spec import load_spec
    from ._common import check_out_dir
    from .cmd_compare import compare_runs, report

    path = example_path()
    sets = [f"train.epochs={args.epochs}"] if args.epochs else None
    spec = load_spec(path, overrides=sets)
    keep = args.out is not None
    out = Path(args.out) if keep else Path(tempfile.mkdtemp(prefix="xnn-demo-"))
    try:
        check_out_dir(out, force=args.force)
        print(f"xnn demo: {spec.name} ({spec.n_params():,} parameters) on scikit-learn digits, {spec.train.epochs} "
              f"epochs, torch and keras from the same initial weights and batches")
        results = compare_runs(spec, out, progress=not args.quiet)
        plot = Path(args.plot) if args.plot else (out / "compare.png" if keep else None)
        summary = report(spec, results, out, plot, exact=False)
    finally:
        if not keep:
            shutil.rmtree(out, ignore_errors=True)
    for b, m in summary["test"].items():
        acc = m.get("accuracy")
        if acc is not None:
            mark = "ok" if acc >= TARGET else f"below the {TARGET} target"
            print(f"test accuracy {b}: {acc:.4f} ({mark})")
    print(f"runs in {out}" if keep else "runs not kept (--out DIR keeps them with compare.png)")
    return 0
