"""``xnn import FILE --out DIR [--force]``: an ONNX (.onnx) or MATLAB (.mat) file into a run
folder: DIR/spec.yaml, DIR/weights.safetensors and DIR/manifest.json (noting the source),
each written atomically. A non-empty DIR is refused unless --force, which moves it aside
(``DIR.replaced-<time>``) rather than deleting anything.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import FormatError, OutputError
from ..fileio import check_writable

VERB = "import"
HELP = "import an .onnx, .mat or .keras file into a run folder (spec.yaml + weights.safetensors)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="model file: .onnx, .mat or .keras (read as data: nothing in it runs)")
    p.add_argument("--out", required=True, metavar="DIR", help="run folder to write")
    p.add_argument("--force", action="store_true", help="use a non-empty DIR: the old folder is moved aside, never deleted")


def run(args: argparse.Namespace) -> int:
    from ..spec import from_dict
    from ..train.run import folder_state, import_manifest, prepare_fresh, write_run_files
    from ..weights import check_params

    src, out = Path(args.file), Path(args.out)
    state = folder_state(out)
    if state == "file":
        raise OutputError(f"{out}: exists and is not a folder")
    if state in ("run", "other") and not args.force:
        raise OutputError(f"{out}: is not empty; use --force to move it aside, or choose another --out")
    suffix = src.suffix.lower()
    preprocess = None
    if suffix == ".onnx":
        from ..interop.onnx.importer import import_onnx_full

        spec_dict, params, info = import_onnx_full(src)
        fmt = "onnx"
        preprocess = info["preprocess"]
        if not info["restored"]:
            loss = (spec_dict.get("train") or {}).get("loss", "cross_entropy")
            print(f"warning: {src} holds no xnn spec (not written by xnn): defaulted sections "
                  f"{', '.join(info['defaulted'])} (train.loss {loss}, data none)", file=sys.stderr)
    elif suffix == ".mat":
        try:
            from ..interop.mat import import_mat_full
        except ImportError:
            raise FormatError(f"{src}: .mat import is not available in this installation") from None
        spec_dict, params, info = import_mat_full(src)
        fmt = "mat"
        preprocess = info["preprocess"]  # the run's fitted preprocessing, when the file holds it
    elif suffix == ".keras":  # read as data: no code from the file runs (xnn/interop/keras/archive.py)
        from ..interop.keras import import_keras

        spec_dict, params = import_keras(src)
        fmt = "keras"
    else:
        raise FormatError(f"{src}: unknown model format {suffix or '(no suffix)'!r}; expected .onnx, .mat or .keras")
    spec = from_dict(spec_dict, source=str(src))  # everything is checked before anything is written
    check_params(params, spec, source=str(src))
    prepare_fresh(out, force=args.force)  # after every check: a refused file changes nothing
    check_writable(out)
    # the one run-folder contract (xnn/train/run.py), as training writes it
    write_run_files(out, spec=spec, man=import_manifest(spec, src, fmt, preprocess), params=params)
    print(f"imported {src} ({fmt}) -> {out}: {len(spec.nodes)} nodes, {spec.n_params():,} parameters, "
          f"input {list(spec.input_shape)}")
    return 0
