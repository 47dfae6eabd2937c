"""``xnn import FILE --out DIR [--force]``: an ONNX (.onnx) or MATLAB (.mat) file into a run
folder: DIR/spec.yaml, DIR/weights.safetensors and DIR/manifest.json (noting the source),
each written atomically; existing files are kept unless --force.
"""
from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from ..errors import FormatError

VERB = "import"
HELP = "import an .onnx or .mat file into a run folder (spec.yaml + weights.safetensors)"
OUT_FILES = ("spec.yaml", "weights.safetensors", "manifest.json")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="model file: .onnx or .mat")
    p.add_argument("--out", required=True, metavar="DIR", help="run folder to write")
    p.add_argument("--force", action="store_true", help="overwrite existing spec.yaml/weights/manifest in DIR")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def run(args: argparse.Namespace) -> int:

    from .. import __version__
    from ..fileio import write_json, write_text
    from ..spec import from_dict
    from ..weights import check_params, save_weights

    src, out = Path(args.file), Path(args.out)
    if out.exists() and not out.is_dir():
        raise FormatError(f"{out}: exists and is not a folder")
    clash = [str(out / f) for f in OUT_FILES if (out / f).exists()]
    if clash and not args.force:
        raise FormatError([f"{c}: exists; use --force to overwrite" for c in clash])
    suffix = src.suffix.lower()
    if suffix == ".onnx":
        from ..interop.onnx import import_onnx

        spec_dict, params = import_onnx(src)
        fmt = "onnx"
    elif suffix == ".mat":
        try:
            from ..interop.mat import import_mat
        except ImportError:
            raise FormatError(f"{src}: .mat import is not available in this installation") from None
        spec_dict, params = import_mat(src)
        fmt = "mat"
    else:
        raise FormatError(f"{src}: unknown model format {suffix or '(no suffix)'!r}; expected .onnx or .mat")
    spec = from_dict(spec_dict, source=str(src))  # everything is checked before anything is written
    check_params(params, spec, source=str(src))
    write_text(out / "spec.yaml", spec.to_yaml())
    save_weights(out / "weights.safetensors", params, metadata={"xnn_version": __version__, "source": str(src)})
    write_json(out / "manifest.json", {"xnn_version": __version__, "imported_from": {
        "path": str(src.resolve()), "format": fmt, "sha256": _sha256(src)}, "spec_hash": spec.hash(),
        "n_params": spec.n_params()})
    print(f"imported {src} ({fmt}) -> {out}: {len(spec.nodes)} nodes, {spec.n_params():,} parameters, "
          f"input {list(spec.input_shape)}")
    return 0
