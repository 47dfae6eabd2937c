"""Helpers shared by the CLI verbs: spec loading with ``--set``, run folders, output files,
framework set-up. Importing this module imports no framework."""
from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError, FormatError, OutputError, XnnError

BACKENDS = ("torch", "keras")


def add_set(p: argparse.ArgumentParser) -> None:
    """``--set dotted.path=value`` (repeatable; values parsed as YAML)."""
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="PATH=VALUE",
                   help="override a spec value, e.g. --set train.epochs=3 (repeatable)")


def load_spec_cli(path: str | Path, overrides: list[str] | None = None):
    """The validated spec of ``path`` (a YAML/JSON file or a run folder) with overrides."""
    from ..spec import load_spec

    return load_spec(path, overrides=overrides or None)


def require_data(spec, what: str) -> None:
    """Refuse a spec without a data section on the command line (Python's ``fit(spec, data=...)``
    passes its data; ``xnn`` has nowhere else to take it from)."""
    if not spec.data_given:
        from ..errors import SpecError

        raise SpecError(f"data: required by {what}: add a data section, e.g. 'data: {{source: digits}}' or "
                        "'data: {source: path/to/file.csv}' (only Python's fit(spec, data=...) runs without one)",
                        source=spec.source)


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


def check_out_dir(out: Path, force: bool = False) -> None:
    """Refuse a non-empty ``out`` (nothing is overwritten without a flag); with ``force`` the old
    folder is moved aside to ``<out>.replaced-<time>``, never deleted."""
    from ..train.run import prepare_fresh

    prepare_fresh(out, force=force)  # says what it moved aside


def read_json(path: Path) -> dict:
    from ..limits import read_json_file

    return read_json_file(path)


def load_run(run_dir: str | Path, allow_checkpoint: bool = False) -> tuple[Any, dict[str, np.ndarray], dict]:
    """``(spec, params, manifest)`` of a run folder (see ``xnn.train.run.load_run``)."""
    from ..train.run import load_run as _load_run

    return _load_run(Path(run_dir), allow_checkpoint=allow_checkpoint)


def run_preprocess(spec, manifest: dict, run_dir: Path):
    """The run's fitted preprocessing, from its manifest (a run is self-contained). Runs made by
    older versions or imported without it are refitted from the spec's data, after checking
    that the data is still the data the run was trained on."""
    import warnings

    from ..data import Preprocess, load
    from ..train.run import hash_arrays

    pre = manifest.get("preprocess") if isinstance(manifest, dict) else None
    if isinstance(pre, dict):
        try:
            return Preprocess.from_dict(pre)
        except (KeyError, TypeError, ValueError) as e:
            raise FormatError(f"{run_dir / 'manifest.json'}: preprocess: malformed ({type(e).__name__}: {e})") from None
    if spec.data.x == "none" and spec.data.y == "none":
        return Preprocess()
    ds = load(spec)
    want = manifest.get("data_sha256") if isinstance(manifest, dict) else None
    have = getattr(ds, "data_hash", None) or hash_arrays(*ds.train, *ds.val, *ds.test)
    if isinstance(want, str) and have != want:
        raise DataError(f"{run_dir / 'manifest.json'}: holds no fitted preprocessing, and the spec's data "
                        f"({spec.data.source}) is no longer the data this run was trained on (sha256 differs); "
                        f"cannot refit data.x={spec.data.x} safely")
    warnings.warn(f"{run_dir / 'manifest.json'}: holds no fitted preprocessing (older xnn or an import); refitted "
                  f"data.x={spec.data.x} from data.source={spec.data.source}", stacklevel=2)
    return ds.preprocess


def default_backend(manifest: dict) -> str:
    b = manifest.get("backend") if isinstance(manifest, dict) else None
    return b if b in BACKENDS else "torch"


def initial_params(src: str | Path, spec) -> dict[str, np.ndarray]:
    """Initial weights for fine-tuning ``spec`` (``xnn train --init``): a run folder (trained or
    imported), a .safetensors, .onnx or .mat file; names and shapes checked against ``spec`` and
    every mismatch listed in one error naming the source."""
    p = Path(src)
    if not p.exists():
        raise FormatError(f"--init {p}: no such run folder or file")
    suffix = p.suffix.lower()
    if p.is_dir():
        _, params, _ = load_run(p)
    elif suffix == ".safetensors":
        from ..weights import load_weights

        params = load_weights(p)
    elif suffix == ".onnx":
        from ..interop.onnx.importer import import_onnx_full

        _, params, _ = import_onnx_full(p)
    elif suffix == ".mat":
        try:
            from ..interop.mat import import_mat
        except ImportError:
            raise FormatError(f"{p}: .mat import is not available in this installation") from None
        _, params = import_mat(p)
    else:
        raise FormatError(f"--init {p}: expected a run folder, .safetensors, .onnx or .mat (received {suffix or 'no suffix'!r})")
    from ..weights import check_params

    try:
        check_params(params, spec, source=f"--init {p}")
    except FormatError as e:
        raise FormatError([f"does not fit the spec {spec.name!r}: {len(e.messages)} problem(s)", *e.messages],
                          source=f"--init {p}") from None
    dtype = np.float64 if spec.train.dtype == "float64" else np.float32
    return {k: np.asarray(v, dtype=dtype) for k, v in params.items()}


def check_device(backend: str, device: str) -> None:
    """Refuse, in one line, a device the backend's framework cannot use here (a CUDA device on a
    CPU-only torch build or without a GPU; Keras asked for cuda where TensorFlow sees no GPU),
    instead of a traceback or a silent fall-back to the CPU. Imports the backend's framework."""
    from ..errors import OutputError

    dev = (device or "cpu").strip().lower()
    if backend == "reference" or dev == "cpu":
        return
    kind, _, index = dev.partition(":")
    if kind != "cuda" or (index and not index.isdigit()):
        raise OutputError(f"--device {device}: must be cpu, cuda or cuda:N")
    n = int(index) if index else 0
    quiet_frameworks()
    if backend == "torch":
        import torch

        if not torch.backends.cuda.is_built():
            raise OutputError(f"--device {device}: this torch build ({torch.__version__}) has no CUDA support; use --device cpu")
        have = torch.cuda.device_count() if torch.cuda.is_available() else 0
    else:
        import tensorflow as tf

        have = len(tf.config.list_physical_devices("GPU"))
    if n >= have:
        raise OutputError(f"--device {device}: {backend} sees {have} CUDA device(s) here; use --device cpu"
                          + (f" or cuda:0..{have - 1}" if have else ""))


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


def protected_files(run_dir: Path | None, inputs: tuple[Path, ...] = ()) -> list[tuple[Path, str]]:
    """What no output may ever replace: a run's own files (spec.yaml, weights, manifest,
    metrics, checkpoints/) and the command's input files."""
    out = [(Path(p), "is the input file") for p in inputs]
    if run_dir is not None:
        names = ("spec.yaml", "weights.safetensors", "manifest.json", "metrics.json", "checkpoints")
        out += [(run_dir / n, "is one of the run's own files") for n in names]
    return out


def check_output_file(out: Path, force: bool = False, protected: list[tuple[Path, str]] = (),
                      flag: str = "--out") -> None:
    """Refuse to write ``out`` over a protected file (ever) or over an existing file (unless
    ``force``); refuse a folder, a device or a FIFO as a target."""
    r = Path(os.path.abspath(out))
    for p, why in protected:
        pa = Path(os.path.abspath(p))
        if r == pa or pa in r.parents or same_file(r, pa):
            raise OutputError(f"{out}: {flag} {why} ({p}); it is never replaced, choose another path")
    if os.path.lexists(out):
        if out.is_dir():
            raise OutputError(f"{out}: {flag} is a folder; give a file path")
        if out.is_symlink() or not out.is_file():
            raise OutputError(f"{out}: {flag} exists and is not a regular file (a link, device or FIFO)")
        if not force:
            raise OutputError(f"{out}: exists; use --force to replace it")


def same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def write_predictions(out: Path, outputs: np.ndarray, labels: np.ndarray | None, classes: list[str] | None,
                      spec=None) -> None:
    """Write predictions atomically by suffix: ``.npz`` (outputs, labels), ``.npy`` (outputs),
    ``.mat`` (outputs, labels), ``.csv`` (label[, class], output_0...; labels with more than one
    value per sample, e.g. per pixel, as label_0... in row-major order). With ``spec``, a .mat file
    holds them in MATLAB's order (samples last: outputs K x N, labels 1 x N, 0-based) with
    ``outputs_format``/``labels_format`` (docs/mat-format.md, "Data files")."""
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
    elif suffix == ".mat" and spec is not None:
        import scipy.io

        from ..interop.mat.data import formats, to_matlab

        fmt = formats(spec)[1]
        arrays = {}
        if outputs.size:
            arrays.update(outputs=to_matlab(outputs, fmt), outputs_format=fmt)
        if labels is not None:
            arrays.update(labels=to_matlab(labels.astype(np.float64), fmt, channel=labels.ndim == len(fmt) - 1),
                          labels_format=fmt)
        if classes:
            arrays["classes"] = np.array([[str(c) for c in classes]], dtype=object)
        with atomic_path(out) as tmp:
            with open(tmp, "wb") as f:
                scipy.io.savemat(f, arrays, long_field_names=True)
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
        elif labels is not None:  # per-pixel (or per-step) labels: one column each, row-major
            lf = labels.reshape(len(labels), -1)
            head += [f"label_{i}" for i in range(lf.shape[1])]
            cols += [[str(int(v)) for v in lf[:, i]] for i in range(lf.shape[1])]
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
