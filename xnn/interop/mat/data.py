"""Data in MATLAB's order: the arrays of a data .mat file (docs/mat-format.md, "Data files").

xnn batches are ``(N, *shape)``, samples first and channels last. In a .mat file xnn writes them
in the dlarray order the model uses (``xnn.predict`` takes them as they are), and says so in a
``<name>_format`` char variable next to each array:

- ``CB``   features x samples (F x N)
- ``SCB``  L x C x N (signals), ``SSCB`` H x W x C x N (images), ``S``·k ``CB`` in general
- ``CBT``  F x N x T (sequences)

Class labels (and integer indices) get a channel of size 1 first: labels ``(N,)`` are a 1 x N
row (``CB``), per-pixel labels ``(N, H, W)`` are H x W x 1 x N (``SSCB``). Labels stay
**0-based** as in xnn. A reader that finds ``<name>_format`` converts back with
:func:`from_matlab`; files without it keep the ``sample_axis`` rule (``first`` or ``last``).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ...errors import DataError
from . import layouts

FORMATS = re.compile(r"^(S*CB|CBT)$")
DATA_FORMAT = 1  # xnn_data in a data file


def formats(spec) -> tuple[str, str]:
    """``(x_format, y_format)`` of a spec: its input's dlarray labels and its output's (targets
    are shaped like the output; labels have a channel of size 1 there)."""
    ctx = layouts.build_context(spec)
    return ctx.formats["input"], ctx.formats[spec.output.name]


def check_format(fmt, where: str, error: type = DataError) -> str:
    """``fmt`` if it is one of the labels xnn writes (``CB``, ``CBT``, ``SCB``, ``SSCB``, ...)."""
    if not isinstance(fmt, str) or not FORMATS.match(fmt):
        raise error(f"{where}: {fmt!r} is not a dlarray format xnn reads (CB, CBT, SCB, SSCB, ...)")
    return fmt


def to_matlab(a: np.ndarray, fmt: str, channel: bool = False) -> np.ndarray:
    """A batch ``(N, ...)`` -> MATLAB order for ``fmt``; ``channel=True`` adds a channel of size 1
    first (labels, indices)."""
    a = np.asarray(a)
    if channel:
        a = a[..., None]
    if a.ndim == 1:
        a = a[:, None]
    if a.ndim != len(fmt):
        raise DataError(f"an array of rank {a.ndim} (samples first) cannot be written as {fmt}")
    return layouts.to_dlarray_order(a, fmt)


def from_matlab(a: np.ndarray, fmt: str, where: str) -> np.ndarray:
    """MATLAB order for ``fmt`` -> ``(N, ...)`` samples first, channels last. MATLAB drops trailing
    singleton dimensions (one sample, one time step): they are put back first."""
    check_format(fmt, f"{where}_format")
    if a.ndim > len(fmt):
        raise DataError(f"{where}: {a.ndim} dimensions {list(a.shape)}, but {where}_format {fmt!r} has {len(fmt)}")
    a = a.reshape(a.shape + (1,) * (len(fmt) - a.ndim))
    return layouts.from_dlarray_order(a, fmt)


def data_variables(spec, x: np.ndarray, y: np.ndarray | None = None, classes: list[str] | None = None,
                   labels: bool | None = None) -> dict:
    """The variables of a data .mat file for ``spec``: ``x`` (raw inputs ``(N, *input.shape)``)
    in the input's dlarray order and ``y`` (targets ``(N, ...)``, or 0-based class labels) in the
    output's, each with its ``_format``; ``classes`` (label names, cell) and a ``layout`` line for
    people."""
    from ...data.dataset import is_labels

    x_fmt, y_fmt = formats(spec)
    x = np.asarray(x)
    if tuple(x.shape[1:]) != tuple(spec.input_shape):
        raise DataError(f"x: shape {list(x.shape)} does not match (N, {list(spec.input_shape)})")
    is_int = spec.input.dtype.startswith("int")
    out = {"xnn_data": np.int32(DATA_FORMAT), "x": to_matlab(x, x_fmt, channel=is_int), "x_format": x_fmt}
    desc = [f"x: {_dims(x_fmt)} ({x_fmt}, samples last)"]
    if y is not None:
        y = np.asarray(y)
        if is_labels(spec) if labels is None else labels:
            out["y"] = to_matlab(y.astype(np.float64), y_fmt, channel=True)
            desc.append(f"y: 0-based class labels, {_dims(y_fmt, 1)} ({y_fmt})")
        else:
            out["y"] = to_matlab(y.reshape(len(y), *spec.output.out_shape).astype(np.float64), y_fmt)
            desc.append(f"y: targets, {_dims(y_fmt)} ({y_fmt})")
        out["y_format"] = y_fmt
    if classes:
        c = np.empty((1, len(classes)), dtype=object)
        for i, name in enumerate(classes):
            c[0, i] = str(name)
        out["classes"] = c
        desc.append("classes{k+1}: the name of label k")
    out["layout"] = "; ".join(desc)
    return out


def _dims(fmt: str, c: int | None = None) -> str:
    names = {"C": "C" if c is None else str(c), "B": "N", "T": "T"}
    s = iter(["H", "W", "D"] if fmt.count("S") > 1 else ["L"])
    return " x ".join(names[ch] if ch != "S" else next(s, "S") for ch in fmt)


def write_data(path: str | Path, spec, x: np.ndarray, y: np.ndarray | None = None, *,
               classes: list[str] | None = None, compress: bool = True) -> Path:
    """Write a data .mat file (MAT v7) in MATLAB's order for ``spec`` (see the module docstring);
    atomic. ``xnn.predict(model, S.x)`` takes ``S.x`` as it is; ``xnn predict/evaluate --data``
    read it back through ``x_format``."""
    from scipy.io import savemat

    from ...fileio import atomic_path

    path = Path(path)
    variables = data_variables(spec, x, y, classes)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            savemat(f, variables, format="5", long_field_names=True, do_compression=compress, oned_as="column")
    return path


def split_arrays(spec, split: str = "test") -> tuple[np.ndarray, np.ndarray, list[str] | None]:
    """Raw inputs and targets (before preprocessing) of one split of ``spec``'s data, the very
    samples :func:`xnn.data.load` puts there, and the label names. Checked: preprocessing these
    gives ``load(spec)``'s split exactly."""
    from ...data import dataset as D

    if split not in ("train", "val", "test"):
        raise DataError(f"split must be train, val or test (received {split!r})")
    ds = D.load(spec)
    raw = D.read_source(spec)
    x = D.conform_x(raw.x, spec, raw.origin, raw.x_field)
    y = D.conform_y(raw.y, spec, raw.origin, raw.y_field, n=len(x))
    strat = None
    if spec.data.split.stratify:  # as xnn.data.load stratifies
        if D.is_labels(spec) and y.ndim == 1:
            strat = y
        elif spec.train.loss.type == "binary_cross_entropy" and y.reshape(len(y), -1).shape[1] == 1 \
                and np.all((y == 0) | (y == 1)):
            strat = y.reshape(-1).astype(np.int64)
    seed = spec.data.split.seed if spec.data.split.seed is not None else spec.train.seed
    idx = dict(zip(("train", "val", "test"), D.split_indices(len(x), spec.data.split.val, spec.data.split.test,
                                                           seed, strat)))[split]
    want = getattr(ds, split)
    if len(idx) == 0:
        raise DataError(f"data.split: the {split} split of {raw.origin} is empty")
    xs, ys = x[idx], y[idx]
    with np.errstate(over="ignore", invalid="ignore"):
        same = np.array_equal(ds.preprocess.apply_x(xs), want[0]) and np.array_equal(
            ds.preprocess.apply_y(ys, dtype=spec.train.dtype), want[1])
    if not same:  # never write samples that are not the split's
        raise DataError(f"{raw.origin}: could not reproduce the {split} split of xnn.data.load")
    return xs, ys, ds.classes
