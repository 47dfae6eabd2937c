"""The run directory contract (shared by train, resume, predict, export, import).

::

    <run>/spec.yaml              the resolved spec (``spec.to_yaml()``)
    <run>/weights.safetensors    final canonical weights (xnn.weights.save_weights)
    <run>/manifest.json          versions, seed, threads, device, backend, dtype, sha256 of the
                                 spec and of the data arrays, spec format version
    <run>/metrics.json           history per epoch, test metrics, best epoch
    <run>/checkpoints/<tag>/     weights.safetensors, optimizer.safetensors (slots, step, RNG),
                                 state.json (epoch, batch, history, early stopping, file hashes)

Checkpoint tags are ``epoch_NNNN`` (NNNN epochs finished) or ``epoch_NNNN_bBBBBBB`` (an
interrupt after BBBBBB batches of epoch NNNN+1). Checkpoints are written to a temp folder and
renamed into place; the last two are kept; a corrupt latest one falls back to the previous
with a warning. Nothing here is pickled.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import FormatError, SpecError
from ..fileio import write_json, write_text
from ..weights import load_weights, save_weights

KEEP_CHECKPOINTS = 2
MANIFEST_FORMAT = 1


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def hash_arrays(*arrays) -> str:
    """sha256 over arrays (dtype, shape and bytes of each; None allowed)."""
    h = hashlib.sha256()
    for a in arrays:
        if a is None:
            h.update(b"none")
            continue
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def manifest(spec, backend: str, data_hash: str | None) -> dict:
    """The manifest of a run: what produced it, with which settings and inputs."""
    from .. import __version__
    from ..spec import SPEC_VERSION

    fw = {}
    for mod in ("numpy", "torch", "tensorflow", "keras"):
        m = sys.modules.get(mod)
        if m is not None:
            fw[mod] = getattr(m, "__version__", "?")
    t = spec.train
    return {
        "format": MANIFEST_FORMAT,
        "xnn": __version__,
        "spec_version": SPEC_VERSION,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "frameworks": fw,
        "backend": backend,
        "dtype": t.dtype,
        "seed": t.seed,
        "threads": t.threads,
        "device": t.device,
        "tf32": t.tf32,
        "spec_sha256": spec.hash(),
        "data_sha256": data_hash,
    }


def write_run_files(run_dir: str | Path, spec=None, man: dict | None = None, metrics: dict | None = None,
                    params: dict[str, np.ndarray] | None = None) -> None:
    """Write (atomically) whichever of spec.yaml, manifest.json, metrics.json, weights are given."""
    d = Path(run_dir)
    d.mkdir(parents=True, exist_ok=True)
    if spec is not None:
        write_text(d / "spec.yaml", spec.to_yaml())
    if man is not None:
        write_json(d / "manifest.json", man)
    if metrics is not None:
        write_json(d / "metrics.json", metrics)
    if params is not None:
        save_weights(d / "weights.safetensors", params)


def load_run(run_dir: str | Path):
    """``(spec, params, manifest)`` of a finished run. FormatError names a missing/corrupt file."""
    from ..spec import SPEC_VERSION, load_spec

    d = Path(run_dir)
    if not d.is_dir():
        raise FormatError(f"{d}: no such run folder")
    for name in ("spec.yaml", "weights.safetensors", "manifest.json"):
        if not (d / name).is_file():
            raise FormatError(f"{d / name}: missing (not a complete xnn run folder)")
    try:
        spec = load_spec(d / "spec.yaml")
    except SpecError as e:
        raise FormatError([f"spec.yaml: {m}" for m in e.messages], source=str(d)) from None
    man = _read_json(d / "manifest.json")
    if man.get("spec_version", SPEC_VERSION) != SPEC_VERSION:
        raise FormatError(f"{d / 'manifest.json'}: spec format version {man.get('spec_version')} (this xnn reads {SPEC_VERSION})")
    params = load_weights(d / "weights.safetensors", spec=spec)
    return spec, params, man


def _read_json(path: Path) -> dict:
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FormatError(f"{path}: not readable JSON ({str(e).splitlines()[0][:100]})") from None
    if not isinstance(obj, dict):
        raise FormatError(f"{path}: expected a JSON object")
    return obj


# ------------------------------------------------------------------------------ checkpoints
def checkpoint_tag(epochs_done: int, batch: int = 0) -> str:
    return f"epoch_{epochs_done:04d}" + (f"_b{batch:06d}" if batch else "")


@dataclass
class Checkpoint:
    """A loaded checkpoint: canonical params, optimizer state (incl. ``step`` and ``rng.*``),
    the loop state (JSON), and the best params so far (early stopping), if any."""

    path: Path
    params: dict[str, np.ndarray]
    optimizer: dict[str, np.ndarray]
    state: dict
    best: dict[str, np.ndarray] | None = field(default=None)


def save_checkpoint(run_dir: str | Path, tag: str, params: dict[str, np.ndarray], optimizer: dict[str, np.ndarray],
                    state: dict, best: dict[str, np.ndarray] | None = None, keep: int = KEEP_CHECKPOINTS) -> Path:
    """Write ``checkpoints/<tag>/`` atomically (temp folder, fsync, rename) and prune old ones."""
    root = Path(run_dir) / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{tag}.", dir=root))
    try:
        save_weights(tmp / "weights.safetensors", params)
        save_weights(tmp / "optimizer.safetensors", optimizer)
        files = ["weights.safetensors", "optimizer.safetensors"]
        if best is not None:
            save_weights(tmp / "best.safetensors", best)
            files.append("best.safetensors")
        state = {**state, "files": {f: sha256_file(tmp / f) for f in files}}
        write_json(tmp / "state.json", state)
        final = root / tag
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    for old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def list_checkpoints(run_dir: str | Path) -> list[Path]:
    """Checkpoint folders, oldest first (tags sort in training order)."""
    root = Path(run_dir) / "checkpoints"
    if not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("epoch_"))


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Load one checkpoint folder; FormatError when any file is missing or its hash is wrong."""
    p = Path(path)
    state = _read_json(p / "state.json")
    files = state.get("files")
    if not isinstance(files, dict) or "weights.safetensors" not in files or "optimizer.safetensors" not in files:
        raise FormatError(f"{p / 'state.json'}: no file list")
    for name, digest in files.items():
        f = p / name
        if not f.is_file():
            raise FormatError(f"{f}: missing")
        if sha256_file(f) != digest:
            raise FormatError(f"{f}: corrupt (sha256 does not match state.json)")
    best = load_weights(p / "best.safetensors") if "best.safetensors" in files else None
    return Checkpoint(p, load_weights(p / "weights.safetensors"), load_weights(p / "optimizer.safetensors"), state, best)


def latest_checkpoint(run_dir: str | Path) -> Checkpoint:
    """The newest readable checkpoint; warns about each corrupt one skipped; FormatError if none."""
    cks = list_checkpoints(run_dir)
    problems = []
    for p in reversed(cks):
        try:
            return read_checkpoint(p)
        except FormatError as e:
            problems.extend(e.messages)
            warnings.warn(f"checkpoint {p.name} is unreadable, falling back to an older one: {e.messages[0]}", stacklevel=2)
    if not cks:
        raise FormatError(f"{Path(run_dir) / 'checkpoints'}: no checkpoint to resume from")
    raise FormatError(["no readable checkpoint"] + problems, source=str(run_dir))
