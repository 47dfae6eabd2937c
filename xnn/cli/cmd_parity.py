"""xnn parity SPEC|RUN_DIR: every path on one seeded batch, compared with NumPy and pairwise."""
from __future__ import annotations

import argparse
from pathlib import Path

VERB = "parity"
HELP = "run torch, keras, numpy, onnx and octave on one seeded batch and compare them"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="a spec file or a run directory (spec.yaml + weights.safetensors)")
    p.add_argument("--backends", default="torch,keras,numpy,onnx,octave",
                   help="comma-separated paths (default: all five)")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float64",
                   help="precision every path runs in (default float64: disagreements are not rounding)")
    p.add_argument("--batch", type=int, default=8, help="batch size of the seeded input")
    p.add_argument("--seed", type=int, default=0, help="seed of the random input (and of initial weights for a spec)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--set", action="append", default=[], metavar="PATH=VALUE",
                   help="override a spec value, e.g. --set model[0].units=8 (repeatable)")


def run(args) -> int:
    from ..errors import SpecError
    from ..parity import PATHS, format_table, report_json, run_parity
    from ..spec import load_spec

    paths = [x.strip() for x in args.backends.split(",") if x.strip()]
    bad = [x for x in paths if x not in PATHS]
    if bad:
        raise SpecError(f"--backends: unknown path(s) {bad} (known: {', '.join(PATHS)})")
    src = Path(args.source)
    spec = load_spec(src, args.set)
    params = load_source_params(src, spec)
    rep = run_parity(spec, params, paths, dtype=args.dtype, n=args.batch, seed=args.seed)
    print(report_json(rep) if args.json else format_table(rep))
    return 0 if rep.ok else 1


def load_source_params(src: Path, spec):
    """A run directory's weights, or the spec's seeded initial weights."""
    from ..init import init_params
    from ..weights import load_weights

    if src.is_dir():
        return load_weights(src / "weights.safetensors", spec)
    return init_params(spec)
