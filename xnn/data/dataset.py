"""``load(spec) -> Dataset``: read the source, check shapes against the spec, split (seeded,
stratified), fit preprocessing on the training split only, cast, hash.

Targets by loss (``spec.train.loss``):

- ``cross_entropy``: integer labels ``(N, *out[:-1])`` (``(N,)`` for a vector output; ``(N, H, W)``
  per pixel for a segmentation output ``(H, W, K)``) int64 in ``[0, out[-1])``; with
  ``data.y: onehot`` float ``(N, *out)`` instead. Only ``(N,)`` labels are stratified.
- ``binary_cross_entropy``: float targets in [0, 1] shaped like the output ``(N, *out)``.
- ``mse`` | ``mae`` | ``huber``: float targets shaped like the output ``(N, *out)``
  (``(N,)`` becomes ``(N, 1)`` for a one-unit output); ``data.y: onehot`` turns integer labels
  into float one-hot rows (e.g. iris with mse).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import DataError
from .files import SUFFIXES, RawData, read_any
from .preprocess import Preprocess
from .sources import BUILTIN, SOURCES

if TYPE_CHECKING:
    from ..spec import Spec

Split = tuple[np.ndarray, np.ndarray]


@dataclass
class Dataset:
    """Preprocessed splits, each ``(x, y)``: ``x (N, *input.shape)`` in the spec's dtype,
    channels-last; ``y`` as described in the module docstring.

    ``n_classes``: number of classes (None for regression); ``classes``: label names when known;
    ``data_hash``: sha256 over every array (dtype, shape, bytes) of the three splits;
    ``preprocess``: the fitted :class:`Preprocess` (store ``preprocess.to_dict()`` in a run);
    ``task``: ``classification`` | ``regression``; ``source``: where the data came from.
    """

    train: Split
    val: Split
    test: Split
    n_classes: int | None
    data_hash: str
    preprocess: Preprocess
    task: str
    source: str
    classes: list[str] | None = None
    augment: dict = field(default_factory=dict)

    def summary(self) -> str:
        """One line: source, split sizes, classes."""
        k = f", {self.n_classes} classes" if self.n_classes else ""
        return (f"{self.source}: train {len(self.train[0])}, val {len(self.val[0])}, test {len(self.test[0])} "
                f"samples{k}; hash {self.data_hash[:12]}")


# ------------------------------------------------------------------------------ helpers
def x_dtype(spec: "Spec") -> str:
    """Inputs are cast to ``train.dtype`` (integer inputs, e.g. token ids, keep ``input.dtype``)."""
    return spec.input.dtype if spec.input.dtype.startswith("int") else spec.train.dtype


def is_labels(spec: "Spec") -> bool:
    """True when the spec's targets are integer class labels (before any one-hot)."""
    return spec.train.loss.type == "cross_entropy" or spec.data.y == "onehot"


def resolve_path(source: str, spec: "Spec | None" = None) -> Path:
    """A data path: absolute; else next to the spec file when it exists there; else the cwd."""
    p = Path(source).expanduser()
    if p.is_absolute():
        return p
    if spec is not None and spec.source:
        sp = Path(spec.source)
        base = sp if sp.is_dir() else sp.parent
        if (base / p).exists():
            return base / p
    return p


def conform_x(x: np.ndarray, spec: "Spec", origin: str, field: str = "x") -> np.ndarray:
    """Reshape ``x (N, ...)`` to ``(N, *input.shape)`` when the per-sample element count matches
    (row-major, i.e. channels-last order); check it is finite; cast to :func:`x_dtype`."""
    shape = tuple(spec.input.shape)
    if x.ndim < 1 or x.shape[0] == 0:
        raise DataError(f"{origin}: {field}: no samples (shape {list(x.shape)})")
    per = int(np.prod(x.shape[1:], dtype=np.int64))
    want = int(np.prod(shape, dtype=np.int64))
    if tuple(x.shape[1:]) != shape:
        if per != want:
            raise DataError(f"{origin}: {field}: samples have shape {list(x.shape[1:])} ({per} values); "
                            f"the spec's input.shape {list(shape)} needs {want}")
        x = x.reshape((x.shape[0], *shape))
    _check_finite(x, origin, field)
    dt = x_dtype(spec)
    if dt.startswith("int") and x.dtype.kind == "f" and not np.all(x == np.round(x)):
        raise DataError(f"{origin}: {field}: input.dtype is {dt} but the values are not whole numbers")
    return np.ascontiguousarray(_cast(x, dt, origin, field))


def _first_bad(bad: np.ndarray) -> tuple[int, ...]:
    return tuple(int(i) for i in np.unravel_index(int(np.argmax(bad.reshape(-1))), bad.shape))


def _check_finite(a: np.ndarray, origin: str, field: str) -> None:
    """NaN or Inf as stored: refused, naming the first sample."""
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        bad = int(np.argmax(~np.isfinite(a).reshape(len(a), -1).all(axis=1)))
        raise DataError(f"{origin}: {field}: contains NaN or Inf (first in sample {bad})")


def _cast(a: np.ndarray, dt: str, origin: str, field: str) -> np.ndarray:
    """``a`` cast to ``dt``; values the target type cannot hold (beyond float32's range, which the
    cast would turn into Inf; or outside an integer type's range, which would wrap) are refused
    naming the first such index."""
    target = np.dtype(dt)
    if a.dtype == target:
        return a
    if target.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            out = a.astype(target)
        if a.dtype.kind in "fiu" and not np.all(np.isfinite(out)):
            idx = _first_bad(~np.isfinite(out))
            v = a[idx]
            raise DataError(f"{origin}: {field}[{', '.join(map(str, idx))}]: {v.item()!r} is beyond the range of "
                            f"{target.name} (±{float(np.finfo(target).max):.4g})")
        return out
    if target.kind in "iu" and a.dtype.kind in "fiu":
        info = np.iinfo(target)
        bad = (a < info.min) | (a > info.max)
        if np.any(bad):
            idx = _first_bad(bad)
            raise DataError(f"{origin}: {field}[{', '.join(map(str, idx))}]: {a[idx].item()!r} is outside the range of "
                            f"{target.name} ({info.min}..{info.max})")
    return a.astype(target)


def conform_y(y: np.ndarray, spec: "Spec", origin: str, field: str = "y", n: int | None = None) -> np.ndarray:
    """Check and shape targets for the spec's loss (module docstring); labels stay int64 and
    un-encoded (one-hot is preprocessing)."""
    out = tuple(spec.output.out_shape)
    if y.ndim == 0:
        raise DataError(f"{origin}: {field}: a scalar, expected one target per sample")
    if n is not None and len(y) != n:
        raise DataError(f"{origin}: {field}: {len(y)} targets for {n} samples")
    _check_finite(y, origin, field)
    if is_labels(spec):
        k = out[-1]
        lab_shape = out[:-1] if spec.train.loss.type == "cross_entropy" else ()
        if tuple(y.shape[1:]) != lab_shape:
            if int(np.prod(y.shape[1:], dtype=np.int64)) == int(np.prod(lab_shape, dtype=np.int64)):
                y = y.reshape((len(y), *lab_shape))
            else:
                what = "one integer label per sample" if not lab_shape else f"integer labels shaped {list(lab_shape)} per sample"
                raise DataError(f"{origin}: {field}: shape {list(y.shape)}; {spec.train.loss.type} with "
                                f"data.y={spec.data.y} needs {what}")
        if y.dtype.kind == "f" and not np.all(y == np.round(y)):
            bad = int(np.argmax((y != np.round(y)).reshape(len(y), -1).any(axis=1)))
            raise DataError(f"{origin}: {field}[{bad}]: class labels must be whole numbers (received {y.reshape(len(y), -1)[bad][0]})")
        if y.dtype.kind == "f" and y.size and (y.min() < 0 or y.max() >= k):
            flat = y.reshape(len(y), -1)
            bad = int(np.argmax(((flat < 0) | (flat >= k)).any(axis=1)))
            v = flat[bad][((flat[bad] < 0) | (flat[bad] >= k))][0]
            raise DataError(f"{origin}: {field}[{bad}]: label {v:g} out of range 0..{k - 1} (the model has {k} outputs)")
        yi = y.astype(np.int64)
        if yi.size and (yi.min() < 0 or yi.max() >= k):
            flat = yi.reshape(len(yi), -1)
            bad = int(np.argmax(((flat < 0) | (flat >= k)).any(axis=1)))
            v = flat[bad][((flat[bad] < 0) | (flat[bad] >= k))][0]
            raise DataError(f"{origin}: {field}[{bad}]: label {v} out of range 0..{k - 1} (the model has {k} outputs)")
        return np.ascontiguousarray(yi)
    # float targets shaped like the model output
    if tuple(y.shape[1:]) != out:
        if int(np.prod(y.shape[1:], dtype=np.int64)) == int(np.prod(out, dtype=np.int64)):
            y = y.reshape((len(y), *out))
        else:
            raise DataError(f"{origin}: {field}: targets have shape {list(y.shape[1:])} per sample; the model "
                            f"output {spec.output.name!r} has shape {list(out)}")
    if spec.train.loss.type == "binary_cross_entropy" and y.size and (y.min() < 0 or y.max() > 1):
        raise DataError(f"{origin}: {field}: binary_cross_entropy needs targets in [0, 1] "
                        f"(received {float(y.min())}..{float(y.max())})")
    return np.ascontiguousarray(_cast(y, spec.train.dtype, origin, field))


def _check_transformed(a: np.ndarray, origin: str, field: str) -> np.ndarray:
    """After preprocessing (``(x - shift) / scale`` in float64, cast back): refuse values it pushed
    out of the dtype's range."""
    if a.dtype.kind == "f" and not np.all(np.isfinite(a)):
        idx = _first_bad(~np.isfinite(a))
        raise DataError(f"{origin}: {field}[{', '.join(map(str, idx))}]: beyond the range of {a.dtype.name} "
                        f"after preprocessing (data.x / data.y: values far outside the training data)")
    return a


def split_indices(n: int, val: float, test: float, seed: int, labels: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeded train/val/test index arrays; stratified by ``labels (n,)`` when given: each class is
    split in the same proportions (rounded per class, at least one training sample per class)."""
    if val + test >= 1:
        raise DataError(f"data.split: val + test must be < 1 (received {val} + {test})")
    rng = np.random.default_rng([seed, 303])
    groups = [np.arange(n)] if labels is None else [np.flatnonzero(labels == c) for c in np.unique(labels)]
    tr, va, te = [], [], []
    for idx in groups:
        idx = rng.permutation(idx)
        m = len(idx)
        n_te = int(round(test * m))
        n_va = int(round(val * m))
        while n_te + n_va >= m and (n_te or n_va):
            if n_va >= n_te and n_va:
                n_va -= 1
            else:
                n_te -= 1
        te.append(idx[:n_te])
        va.append(idx[n_te:n_te + n_va])
        tr.append(idx[n_te + n_va:])
    return tuple(rng.permutation(np.concatenate(g)).astype(np.int64) for g in (tr, va, te))  # type: ignore[return-value]


def hash_arrays(arrays: list[np.ndarray | None]) -> str:
    """sha256 over each array's dtype, shape and C-order bytes (None: a missing split). The one
    data hash of a run (manifest ``data_sha256``), whichever path loaded the data."""
    h = hashlib.sha256()
    for a in arrays:
        if a is None:
            h.update(b"none")
            continue
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


# ------------------------------------------------------------------------------ load
def read_source(spec: "Spec") -> RawData:
    """The raw arrays of ``spec.data.source`` (a built-in name or a file path)."""
    src = spec.data.source
    n_features = int(np.prod(spec.input.shape))
    out = spec.output.out_shape
    n_out = int(out[-1]) if is_labels(spec) else int(np.prod(out, dtype=np.int64))
    if src in SOURCES:
        return SOURCES[src](dict(spec.data.options), n_features, n_out, spec.train.seed)
    if Path(src).suffix.lower() in SUFFIXES:
        return read_any(resolve_path(src, spec), spec.data.options, need_y=True)
    import difflib

    close = difflib.get_close_matches(src, BUILTIN, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise DataError(f"data.source: unknown source{hint}; use one of {list(BUILTIN)} or a {'/'.join(SUFFIXES)} file "
                    f"(received {src!r})")


def load(spec: "Spec") -> Dataset:
    """Read, check, split, preprocess. Deterministic in the spec (same arrays, same hash)."""
    raw = read_source(spec)
    if raw.y is None:
        raise DataError(f"{raw.origin}: {raw.y_field}: targets are required for training")
    x = conform_x(raw.x, spec, raw.origin, raw.x_field)
    y = conform_y(raw.y, spec, raw.origin, raw.y_field, n=len(x))
    labels = is_labels(spec)
    n_classes = int(spec.output.out_shape[-1]) if labels else None
    if spec.data.y == "onehot" and spec.train.loss.type != "cross_entropy" and n_classes is not None:
        if (len(y), n_classes) != (len(y), *spec.output.out_shape):
            raise DataError(f"data.y: onehot rows have {n_classes} values but the model output has shape "
                            f"{list(spec.output.out_shape)}")
    aug = spec.data.augment
    if (aug.flip != "none" or aug.shift) and len(spec.input.shape) not in (2, 3):
        raise DataError(f"data.augment: flips and shifts need image (H, W, C) or signal (L, C) inputs "
                        f"(input.shape {list(spec.input.shape)})")
    if aug.flip in ("vertical", "both") and len(spec.input.shape) == 2:
        raise DataError("data.augment.flip: vertical flips need image (H, W, C) inputs")
    if (aug.flip != "none" or aug.shift) and y.ndim > (1 if labels else 2):
        raise DataError(f"data.augment: flips and shifts move the inputs only; targets with spatial axes "
                        f"(shape {list(y.shape[1:])} per sample, e.g. per-pixel labels) would no longer match")
    strat = None
    if spec.data.split.stratify:
        if labels and y.ndim == 1:
            strat = y
        elif spec.train.loss.type == "binary_cross_entropy" and y.reshape(len(y), -1).shape[1] == 1 \
                and np.all((y == 0) | (y == 1)):
            strat = y.reshape(-1).astype(np.int64)
    seed = spec.data.split.seed if spec.data.split.seed is not None else spec.train.seed
    tr, va, te = split_indices(len(x), spec.data.split.val, spec.data.split.test, seed, strat)
    if len(tr) == 0:
        raise DataError(f"{raw.origin}: no training samples left after the split ({len(x)} samples)")
    pre = Preprocess.fit(x[tr], y[tr] if y.dtype.kind == "f" else None, spec.data.x, spec.data.y,
                         n_classes=n_classes if spec.data.y == "onehot" else None, classes=raw.classes)
    if spec.data.y == "onehot":
        pre.n_classes = n_classes
    parts = []
    for idx in (tr, va, te):
        with np.errstate(over="ignore", invalid="ignore"):
            xs = _check_transformed(pre.apply_x(x[idx]), raw.origin, raw.x_field)
            ys = _check_transformed(pre.apply_y(y[idx], dtype=spec.train.dtype), raw.origin, raw.y_field)
        parts.append((np.ascontiguousarray(xs), np.ascontiguousarray(ys)))
    h = hash_arrays([a for part in parts for a in part])
    return Dataset(train=parts[0], val=parts[1], test=parts[2], n_classes=n_classes, data_hash=h,
                   preprocess=pre, task="classification" if labels or spec.train.loss.type == "binary_cross_entropy" else "regression",
                   source=raw.origin, classes=raw.classes, augment=spec.data.augment.model_dump())


def read_file(path: str | Path, spec: "Spec", preprocess: Preprocess | None = None,
              options: dict | None = None, need_y: bool = False) -> tuple[np.ndarray, np.ndarray | None]:
    """Inputs (and targets when present) of a predict/evaluate file, checked against ``spec``.

    ``x (N, *input.shape)``; ``y`` as :func:`load` makes it, or None. With ``preprocess`` the
    fitted transform is applied (labels named by text are mapped with ``preprocess.classes``).
    ``options`` default to the spec's ``data.options`` when the spec reads a file of that type.
    """
    p = Path(path)
    if options is None:
        src = spec.data.source
        options = dict(spec.data.options) if Path(src).suffix.lower() == p.suffix.lower() else {}
    raw = read_any(p, options, need_y=need_y)
    x = conform_x(raw.x, spec, raw.origin, raw.x_field)
    y = None
    if raw.y is not None:
        yr = raw.y
        if raw.classes is not None:
            known = preprocess.classes if preprocess is not None and preprocess.classes else None
            if known is None:
                raise DataError(f"{raw.origin}: {raw.y_field}: text labels, but the run has no class names to map them")
            names = np.asarray(raw.classes)[yr]
            missing = sorted(set(names.tolist()) - set(known))
            if missing:
                raise DataError(f"{raw.origin}: {raw.y_field}: unknown class names {missing[:5]}; the run knows {known}")
            lut = {c: i for i, c in enumerate(known)}
            yr = np.vectorize(lut.__getitem__, otypes=[np.int64])(names)
        y = conform_y(yr, spec, raw.origin, raw.y_field, n=len(x))
    if preprocess is not None:
        with np.errstate(over="ignore", invalid="ignore"):
            x = _check_transformed(preprocess.apply_x(x), raw.origin, raw.x_field)
            if y is not None:
                y = _check_transformed(preprocess.apply_y(y, dtype=spec.train.dtype), raw.origin, raw.y_field)
    return x, y
