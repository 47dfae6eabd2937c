"""Helpers shared by the CLI verbs: spec loading with ``--set``, run folders, output files,
framework set-up. Importing this module imports no framework."""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, FormatError, XnnError

MAX_JSON_BYTES = 64 * 2**20
BACKENDS = ("torch", "keras")


def add_set(p: argparse.ArgumentParser) -> None:
    """``--set dotted.path=value`` (repeatable; values parsed as YAML)."""
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a spec value, e.g. --set train.epochs=3 (repeatable)")


def load_spec_cli(path: str | Path, overrides: list[str] | None = None):
    """The validated spec of ``path`` (a YAML/JSON file or a run folder) with overrides."""
    from ..spec import load_spec

    return load_spec(path, overrides=overrides or None)


def quiet_frameworks() -> None:
    """Environment for a quiet, CPU-friendly TensorFlow (set before it is imported)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def summary_line(spec) -> str:
    """One line: name, nodes, parameters, shapes, loss/optimizer, data source."""
    n = spec.n_params()
    return (f"{spec.name}: {len(spec.nodes)} nodes, {n:,} parameters, input {list(spec.input_shape)} -> "
            f"output {list(spec.output.out_shape)}; loss {spec.train.loss.type}, optimizer "
            f"{spec.train.optimizer.type}, {spec.train.epochs} epochs; data {spec.data.source}")


# ------------------------------------------------------------------------------ runs
def is_run_dir(path: Path) -> bool:
    return (path / "manifest.json").is_file() or ((path / "spec.yaml").is_file() and (path / "weights.safetensors").is_file())


def check_out_dir(out: Path, resume: bool = False, force: bool = False) -> None:
    """Refuse a non-empty folder that is not an xnn run (unless resume/force) or a file."""
    if out.exists() and not out.is_dir():
        raise DataError(f"{out}: exists and is not a folder")
    if out.is_dir() and any(out.iterdir()) and not (resume or force or is_run_dir(out)):
        raise DataError(f"{out}: folder is not empty and is not an xnn run; use --force to write into it anyway")


def read_json(path: Path) -> dict:
    if not path.is_file():
        raise FormatError(f"{path}: no such file")
    if path.stat().st_size > MAX_JSON_BYTES:
        raise FormatError(f"{path}: larger than {MAX_JSON_BYTES} bytes")
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise FormatError(f"{path}: not valid JSON ({e})") from None
    if not isinstance(d, dict):
        raise FormatError(f"{path}: expected a JSON object")
    return d


def load_run(run_dir: str | Path) -> tuple[Any, dict[str, np.ndarray], dict]:
    """``(spec, params, manifest)`` of a run folder (``xnn.train.run.load_run`` when present)."""
    d = Path(run_dir)
    if not d.is_dir():
        raise FormatError(f"{d}: no such run folder")
    try:
        from ..train.run import load_run as _load_run  # written by the training module
    except ImportError:
        _load_run = None
    if _load_run is not None:
        return _load_run(d)
    from ..spec import load_spec
    from ..weights import load_weights

    if not (d / "spec.yaml").is_file():
        raise FormatError(f"{d}: not an xnn run (no spec.yaml)")
    spec = load_spec(d / "spec.yaml")
    params = load_weights(d / "weights.safetensors", spec)
    manifest = read_json(d / "manifest.json") if (d / "manifest.json").exists() else {}
    return spec, params, manifest


def run_preprocess(spec, manifest: dict, run_dir: Path):
    """The run's fitted preprocessing: from the manifest when stored, else refitted by loading
    the spec's data again (deterministic, so the same numbers)."""
    from ..data import Preprocess, load

    pre = manifest.get("preprocess") if isinstance(manifest, dict) else None
    if isinstance(pre, dict):
        return Preprocess.from_dict(pre)
    if spec.data.x == "none" and spec.data.y == "none":
        return Preprocess()
    return load(spec).preprocess


def default_backend(manifest: dict) -> str:
    b = manifest.get("backend") if isinstance(manifest, dict) else None
    return b if b in BACKENDS else "torch"


def model_outputs(spec, params: dict[str, np.ndarray], x: np.ndarray, backend: str, device: str = "cpu") -> np.ndarray:
    """Evaluation-mode outputs ``(N, *output.shape)`` from ``backend`` (torch | keras | reference)."""
    if backend == "reference":
        from ..reference import forward

        return forward(spec, params, x, dtype="float64")
    quiet_frameworks()
    from ..backends import get

    be = get(backend)
    model = be.build(spec, params, dtype=spec.train.dtype, device=device)
    return np.asarray(be.predict(model, x))


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def write_predictions(out: Path, outputs: np.ndarray, labels: np.ndarray | None, classes: list[str] | None) -> None:
    """Write predictions atomically by suffix: ``.npz`` (outputs, labels), ``.npy`` (outputs),
    ``.mat`` (outputs, labels), ``.csv`` (label[, class], output_0...)."""
    from ..fileio import atomic_path, write_text

    suffix = out.suffix.lower()
    if suffix == ".npz":
        arrays = {"outputs": outputs}
        if labels is not None:
            arrays["labels"] = labels
        with atomic_path(out) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
    elif suffix == ".npy":
        with atomic_path(out) as tmp:
            with open(tmp, "wb") as f:
                np.save(f, outputs, allow_pickle=False)
    elif suffix == ".mat":
        import scipy.io

        arrays = {"outputs": outputs}
        if labels is not None:
            arrays["labels"] = labels.astype(np.float64).reshape(-1, 1) if labels.ndim == 1 else labels
        with atomic_path(out) as tmp:
            with open(tmp, "wb") as f:
                scipy.io.savemat(f, arrays)
    elif suffix == ".csv":
        flat = outputs.reshape(len(outputs), -1)
        head = []
        cols = []
        if labels is not None and labels.ndim == 1:
            head.append("label")
            cols.append([str(int(v)) for v in labels])
            if classes:
                head.append("class")
                cols.append([classes[int(v)] if 0 <= int(v) < len(classes) else "" for v in labels])
        head += [f"output_{i}" for i in range(flat.shape[1])]
        lines = [",".join(head)]
        for r in range(len(flat)):
            lines.append(",".join([c[r] for c in cols] + [repr(float(v)) for v in flat[r]]))
        write_text(out, "\n".join(lines) + "\n")
    else:
        raise DataError(f"{out}: unknown output type {suffix!r}; use .npz, .npy, .csv or .mat")


def fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def ensure_xnn_error(e: Exception, what: str) -> XnnError:
    """Wrap an unexpected exception from a dependency into a one-line XnnError."""
    from ..errors import TrainingError

    return TrainingError(f"{what}: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")


def test_metrics(result: Any) -> dict[str, float]:
    """Test-split metrics of a ``fit`` result (``.test``; ``.test_metrics`` also accepted)."""
    m = getattr(result, "test_metrics", None)
    if m is None:
        m = getattr(result, "test", None)
    return dict(m or {})
