"""``xnn export RUN_DIR|SPEC --onnx model.onnx [--opset N | --target T] [--via torch|keras] [--mat model.mat] [--data test.mat]``.

A run folder exports its trained weights (spec.yaml + weights.safetensors); a spec file alone
exports its seeded initial weights. ``--via`` uses the framework's own ONNX exporter instead of
xnn's direct writer (for comparison). ``--target onnxruntime|onnx2torch|matlab|tensorflow`` picks
the opset that consumer reads and first reports, by layer, what it cannot read (nothing is written
then). A run's fitted preprocessing goes into the ONNX metadata (``xnn_preprocess``), so that
``xnn import`` restores it, and into the .mat file (the ``preprocess`` struct, applied by
``xnn.predict(model, X, 'preprocess', true)``). ``--data`` writes the held-out test split (raw
inputs before preprocessing, and targets) as a data .mat in MATLAB's order (H x W x C x N images,
F x N features, with ``x_format``). Every file is written atomically.
"""
from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..errors import FormatError, OutputError
from ._common import add_set

VERB = "export"
HELP = "export a run or spec to ONNX (--onnx) and/or MATLAB .mat (--mat); its test data to .mat (--data)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", help="run folder (spec.yaml + weights.safetensors) or spec file (initial weights)")
    p.add_argument("--onnx", metavar="FILE", help="write an ONNX model here")
    p.add_argument("--opset", type=int, default=None, help="ONNX opset (default: 17, which every target reads)")
    p.add_argument("--target", choices=["onnxruntime", "onnx2torch", "matlab", "tensorflow"], default=None,
                   help="write the opset this consumer reads; refuse (by layer) what it cannot read")
    p.add_argument("--via", choices=["torch", "keras"], default=None,
                   help="export through the framework's own ONNX exporter instead of xnn's writer")
    p.add_argument("--mat", metavar="FILE", help="write a MATLAB/Octave .mat file here")
    p.add_argument("--data", metavar="FILE.mat", help="write the test split (raw inputs x, targets y) as a .mat file in "
                   "MATLAB's order (H x W x C x N, F x N, ...; x_format says which), for xnn.predict")
    p.add_argument("--force", action="store_true", help="replace existing --onnx/--mat/--data files (never the run's own)")
    add_set(p)


def load_source(source: str, overrides: list[str] | None = None):
    """``(spec, params, kind, run_dir)``: a run folder's trained weights (or, for a run that
    stopped early, its newest checkpoint's, with a warning), or a spec's seeded initial weights."""
    from ..init import init_params
    from ..spec import load_spec
    from ._common import load_run

    src = Path(source)
    if src.is_dir():
        spec, params, man = load_run(src, allow_checkpoint=True)
        if overrides:
            spec = spec.with_overrides(overrides)
            from ..weights import check_params

            check_params(params, spec, source=str(src))
        return spec, params, ("checkpoint" if "weights_from" in man else "run"), src
    spec = load_spec(src, overrides=overrides or None)
    return spec, init_params(spec), "initial", None


def run(args: argparse.Namespace) -> int:
    from ._common import check_output_file, protected_files

    if not args.onnx and not args.mat and not args.data:
        raise FormatError("nothing to do: give --onnx FILE, --mat FILE and/or --data FILE.mat")
    if args.data and Path(args.data).suffix.lower() != ".mat":
        raise FormatError(f"--data {args.data}: the data file is a .mat file (FILE.mat)")
    if args.via and not args.onnx:
        raise FormatError("--via needs --onnx FILE")
    if args.target and (not args.onnx or args.via or args.opset is not None):
        raise FormatError("--target needs --onnx FILE, and neither --via nor --opset")
    named = [os.path.abspath(t) for t in (args.onnx, args.mat, args.data) if t]
    if len(set(named)) < len(named):
        raise OutputError("--onnx, --mat and --data must name different files")
    src = Path(args.source)
    protected = protected_files(src if src.is_dir() else None, () if src.is_dir() else (src,))
    for flag, target in (("--onnx", args.onnx), ("--mat", args.mat), ("--data", args.data)):
        if target:  # checked before any work, so a refusal changes nothing
            check_output_file(Path(target), force=args.force, protected=protected, flag=flag)
    spec, params, kind, run_dir = load_source(args.source, args.overrides)
    what = {"run": "trained", "checkpoint": "checkpoint (unfinished run)", "initial": "initial (seeded)"}[kind]
    if args.onnx:
        if args.via:
            from ._common import quiet_frameworks
            from ..interop.onnx import export_via

            quiet_frameworks()
            path = export_via(spec, params, args.onnx, args.via, opset=args.opset)
            print(f"wrote {path} (ONNX via {args.via}, {what} weights)")
        else:
            from ..interop.onnx import default_opset, export_onnx
            from ..interop.onnx.export import target_opset, target_problems

            if args.target:  # the pre-flight report: before anything is written
                problems = target_problems(spec, params, args.target)
                if problems:
                    raise FormatError([f"--target {args.target}: " + p for p in problems])
                opset = target_opset(args.target)
            else:
                opset = args.opset if args.opset is not None else default_opset()
            path = export_onnx(spec, params, args.onnx, opset=opset, preprocess=_preprocess(run_dir))
            print(f"wrote {path} (ONNX opset {opset}{' for ' + args.target if args.target else ''}, {what} "
                  f"weights; input 'input' (N, {', '.join(map(str, spec.input_shape))}) channels-last)")
    if args.mat:
        try:
            from ..interop.mat import export_mat
        except ImportError:
            raise FormatError("--mat: .mat export is not available in this installation") from None
        pre = _preprocess(run_dir)
        path = export_mat(spec, params, args.mat, compress=False, preprocess=pre)
        print(f"wrote {path} (MATLAB .mat, {what} weights"
              + (f"; preprocessing x: {pre['x']['method']}, y: {pre['y']['method']}" if pre else "") + ")")
    if args.data:
        from ..interop.mat.data import formats, split_arrays, write_data

        x, y, classes = split_arrays(spec, "test")
        path = write_data(args.data, spec, x, y, classes=classes)
        print(f"wrote {path} ({len(x)} test samples of {spec.data.source}, raw; x is {formats(spec)[0]}, "
              f"samples last)")
    return 0


def _preprocess(run_dir: Path | None) -> dict | None:
    """A run's fitted preprocessing as its manifest holds it (None for a spec, or a run without it)."""
    if run_dir is None or not (run_dir / "manifest.json").is_file():
        return None
    from ..limits import loads_json

    man = loads_json((run_dir / "manifest.json").read_bytes(), str(run_dir / "manifest.json"))
    pre = man.get("preprocess")
    return pre if isinstance(pre, dict) else None
