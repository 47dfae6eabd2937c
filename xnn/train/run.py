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
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import FormatError, OutputError, SpecError
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
    """sha256 over arrays (None allowed): :func:`xnn.data.hash_arrays`, the one data hash."""
    from ..data.dataset import hash_arrays as _hash

    return _hash(list(arrays))


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


def import_manifest(spec, source: str | Path, fmt: str, preprocess: dict | None = None) -> dict:
    """The manifest of an imported model (``kind: import``): where it came from, the spec's hash."""
    from .. import __version__
    from ..spec import SPEC_VERSION

    src = Path(source)
    man = {"format": MANIFEST_FORMAT, "kind": "import", "status": "finished", "xnn": __version__,
           "spec_version": SPEC_VERSION, "imported_from": {"path": str(src.resolve()), "format": fmt,
                                                           "sha256": sha256_file(src)},
           "spec_sha256": spec.hash(), "n_params": spec.n_params()}
    if preprocess is not None:
        man["preprocess"] = preprocess
    return man


def load_run(run_dir: str | Path, allow_checkpoint: bool = False):
    """``(spec, params, manifest)`` of a finished run. FormatError names a missing/corrupt file.

    With ``allow_checkpoint``, a run without final weights (stopped before its end) gives the
    newest readable checkpoint's weights and says so (``manifest["weights_from"]``)."""
    from ..spec import SPEC_VERSION, load_spec

    d = Path(run_dir)
    if not d.is_dir():
        raise FormatError(f"{d}: no such run folder")
    if not (d / "spec.yaml").is_file():
        raise FormatError(f"{d / 'spec.yaml'}: missing (not an xnn run folder)")
    w = d / "weights.safetensors"
    if not os.path.lexists(w) and not (allow_checkpoint and list_checkpoints(d)):
        hint = "; the run stopped before its end: --resume it to finish" if list_checkpoints(d) else ""
        raise FormatError(f"{w}: missing{hint}")
    try:
        spec = load_spec(d / "spec.yaml")
    except SpecError as e:
        raise FormatError([f"spec.yaml: {m}" for m in e.messages], source=str(d)) from None
    man = read_manifest(d) if os.path.lexists(d / "manifest.json") else {}  # a hand-made spec + weights folder
    if man.get("spec_version", SPEC_VERSION) != SPEC_VERSION:
        raise FormatError(f"{d / 'manifest.json'}: spec format version {man.get('spec_version')} (this xnn reads {SPEC_VERSION})")
    edited = spec_edited(man, spec)
    if edited:
        warnings.warn(f"{d / 'spec.yaml'}: {edited}", stacklevel=2)
    if not os.path.lexists(w):
        ck = latest_checkpoint(d)
        check_checkpoint_matches(ck, spec)
        warnings.warn(f"{d}: no weights.safetensors (the run stopped before its end, status "
                      f"{man.get('status', 'unknown')}); using checkpoint {ck.path.name}", stacklevel=2)
        return spec, ck.params, {**man, "weights_from": str(ck.path)}
    params = load_weights(w, spec=spec)
    return spec, params, man


def read_manifest(run_dir: str | Path) -> dict:
    """manifest.json of a run through the hardened JSON reader."""
    return _read_json(Path(run_dir) / "manifest.json")


def spec_edited(man: dict, spec) -> str | None:
    """A sentence when ``spec`` is not the spec the manifest recorded (spec.yaml edited by hand)."""
    want = man.get("spec_sha256") or man.get("spec_hash")
    if isinstance(want, str) and want != spec.hash():
        return "differs from the spec this run was made with (its sha256 is not the one in manifest.json): edited after training?"
    return None


def _read_json(path: Path) -> dict:
    from ..limits import read_json_file

    return read_json_file(path)


# ------------------------------------------------------------------------------ output folders
def folder_state(d: Path) -> str:
    """"missing" | "empty" | "run" (an xnn run or import) | "other" (non-empty, not a run) | "file"."""
    if not os.path.lexists(d):
        return "missing"
    if d.is_symlink() or not d.is_dir():
        return "file"
    try:
        entries = list(d.iterdir())
    except OSError as e:
        raise OutputError(f"{d}: cannot be read ({e.strerror})") from None
    if not entries:
        return "empty"
    return "run" if (d / "manifest.json").is_file() or (d / "spec.yaml").is_file() else "other"


def describe_run(d: Path) -> str:
    """A few words on what a run folder holds (for messages before anything is replaced)."""
    try:
        man = read_manifest(d)
    except FormatError:
        man = {}
    parts = [f"status {man.get('status', 'unknown')}"]
    if "imported_from" in man:
        parts = ["an imported model"]
    cks = list_checkpoints(d)
    if cks:
        parts.append(f"{len(cks)} checkpoint(s), newest {cks[-1].name}")
    if (d / "weights.safetensors").exists():
        parts.append("final weights")
    return ", ".join(parts)


def prepare_fresh(out: str | Path, force: bool = False) -> Path | None:
    """Make ``out`` ready for a new run without losing anything.

    A missing or empty folder is used as is. A non-empty one is refused unless ``force``, which
    moves it aside to ``<out>.replaced-<UTC time>`` (returned) rather than deleting it."""
    d = Path(out)
    state = folder_state(d)
    if state in ("missing", "empty"):
        return None
    if state == "file":
        raise OutputError(f"{d}: exists and is not a folder")
    if not force:
        if state == "run":
            raise OutputError(f"{d}: already holds a run ({describe_run(d)}); use --resume to continue it, "
                              f"--force to move it aside and start afresh, or choose another --out")
        raise OutputError(f"{d}: is not empty and is not an xnn run; use --force to move it aside, "
                          f"or choose another --out")
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    aside = d.with_name(f"{d.name}.replaced-{stamp}")
    n = 1
    while os.path.lexists(aside):
        n += 1
        aside = d.with_name(f"{d.name}.replaced-{stamp}-{n}")
    try:
        os.replace(d, aside)
    except OSError as e:
        raise OutputError(f"{d}: cannot move the old run aside to {aside} ({e.strerror}); nothing was changed") from None
    print(f"moved the existing {d} aside to {aside}", file=sys.stderr)
    return aside


# what a resumed run may change without --force: how long and how it runs, not what it computes
# spec paths (and everything under them) a resume may change: how long, how fast, where, what is logged
RESUME_MAY_CHANGE = {"train.epochs", "train.compile", "train.threads", "train.device", "train.tensorboard"}


def check_resume(out: str | Path, spec, force: bool = False) -> None:
    """Refuse to resume ``out`` with a spec other than the run's (``RESUME_MAY_CHANGE`` excepted),
    or a run whose spec.yaml was edited, unless ``force``."""
    from ..spec import load_spec

    d = Path(out)
    if folder_state(d) != "run":
        raise OutputError(f"{d}: --resume needs an existing run folder (none here)")
    man = read_manifest(d)
    want = man.get("spec_sha256")
    if not isinstance(want, str) or want == spec.hash():
        return
    try:
        recorded = load_spec(d / "spec.yaml")
    except (SpecError, FormatError):
        recorded = None
    diffs = []
    if recorded is not None and recorded.hash() != want:
        diffs.append("its spec.yaml was edited after training began (sha256 differs from manifest.json)")
    if recorded is not None:
        changed = [p for p in _diff_paths(recorded.raw, spec.raw)
                   if not any(p == q or p.startswith(q + ".") for q in RESUME_MAY_CHANGE)]
        if changed:
            diffs.append("the spec differs from the run's in " + ", ".join(changed[:6]) + (" ..." if len(changed) > 6 else ""))
    elif not diffs:
        diffs.append("the spec differs from the run's (spec.yaml unreadable)")
    if diffs and not force:
        raise OutputError(f"{d}: cannot resume: " + "; ".join(diffs) + "; use --force to resume anyway")
    if diffs:
        warnings.warn(f"{d}: resuming although " + "; ".join(diffs), stacklevel=2)


def _diff_paths(a, b, prefix: str = "") -> list[str]:
    """Dotted paths where two JSON-like values differ (iterative enough for specs)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            out += _diff_paths(a.get(k), b.get(k), f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += _diff_paths(x, y, f"{prefix}[{i}]")
        return out
    return [] if a == b else [prefix or "(whole spec)"]


def check_checkpoint_matches(ck: "Checkpoint", spec) -> None:
    """A checkpoint's weights fit ``spec`` (names and shapes), else one FormatError per tensor."""
    from ..weights import check_params

    try:
        check_params(ck.params, spec, source=str(ck.path / "weights.safetensors"))
    except FormatError as e:
        raise FormatError([f"{m} (the checkpoint does not belong to this spec)" for m in e.messages[:5]],
                          source=e.source) from None


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
    for key, typ in (("epoch", int), ("batch", int), ("history", list)):
        v = state.get(key)
        if not isinstance(v, typ) or isinstance(v, bool) or (typ is int and v < 0):
            raise FormatError(f"{p / 'state.json'}: {key}: missing or malformed (received {str(v)[:40]!r})")
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
    for i, p in enumerate(reversed(cks)):
        try:
            return read_checkpoint(p)
        except FormatError as e:
            problems.extend(e.messages)
            if i + 1 < len(cks):
                warnings.warn(f"checkpoint {p.name} is unreadable, falling back to an older one: {e.messages[0]}",
                              stacklevel=2)
    if not cks:
        raise FormatError(f"{Path(run_dir) / 'checkpoints'}: no checkpoint to resume from")
    raise FormatError(f"no readable checkpoint ({len(cks)} tried); newest: {problems[0]}", source=str(run_dir))
