"""Write a spec + canonical weights as a MATLAB .mat file (docs/mat-format.md is the contract).

v7 (MAT 5, scipy.io.savemat) by default; a variable over 2 GiB (MATLAB's v7 limit, which scipy
does not enforce) switches to v7.3 (HDF5, through h5py) with a warning: Octave cannot read it.
"""
from __future__ import annotations

import json
import time
import warnings
from pathlib import Path

import numpy as np

from ...errors import FormatError
from ...fileio import atomic_path
from . import layouts

FORMAT_VERSION = 1
V7_MAX_VAR_BYTES = 2**31  # MATLAB's documented per-variable limit of v7 files
# xnn.compare's check (docs/mat-format.md, "Reference data"): a double-precision forward pass on
# the stored numbers reproduces ref_output to ~1e-15, so the tolerance is far below any
# semantic slip (leaving out BatchNorm's eps = 1e-5 moves outputs by ~eps / (2 var), ~5e-6)
COMPARE_REL_TOL = 1e-10


def _xnn_version() -> str:
    import xnn

    return str(getattr(xnn, "__version__", "unknown"))


def _cell(items: list, row: bool = True) -> np.ndarray:
    """A MATLAB cell array (1 x k, or k x 1 with ``row=False``) from a list."""
    c = np.empty((1, len(items)) if row else (len(items), 1), dtype=object)
    for i, v in enumerate(items):
        c[(0, i) if row else (i, 0)] = v
    return c


def _row(shape) -> np.ndarray:
    return np.asarray(list(shape), dtype=np.float64).reshape(1, -1)


def default_ref_input(spec, n: int, seed: int) -> np.ndarray:
    """A seeded batch ``(n, *input.shape)``: N(0, 1) floats, or indices valid for every Embedding."""
    rng = np.random.default_rng(seed)
    shape = (n, *spec.input_shape)
    if spec.input.dtype.startswith("int"):
        highs = [nd.layer.num_embeddings for nd in spec.nodes if nd.kind == "Embedding" and "input" in nd.inputs]
        return rng.integers(0, min(highs) if highs else 2, size=shape).astype(spec.input.dtype)
    return rng.normal(size=shape)


def build_variables(spec, params: dict[str, np.ndarray], ref_input: np.ndarray | None = None,
                    n_ref: int = 4, seed: int = 0, preprocess: dict | None = None) -> dict[str, object]:
    """The top-level .mat variables (see docs/mat-format.md), without writing anything.

    ``params`` are canonical ``<node>.<param>`` arrays; weights are stored in ``spec.train.dtype``
    and the reference output is computed in float64 from exactly those stored numbers.
    ``preprocess``: a run's fitted preprocessing (``manifest.json`` ``preprocess``), written as the
    ``preprocess`` struct; None writes no such variable (the file then says nothing about it).
    """
    from ...reference import forward
    from ...weights import check_params

    check_params(params, spec, source="export_mat params")
    missing = layouts.unmapped(spec)
    if missing:
        raise FormatError(f"no MATLAB .mat mapping for layer kind(s) {missing}")
    dtype = spec.train.dtype
    ctx = layouts.build_context(spec)
    is_int = spec.input.dtype.startswith("int")
    stored = {k: np.asarray(v).astype(dtype) for k, v in params.items()}

    cells = []
    as_read: dict[str, np.ndarray] = {}  # what a reader of the file gets back (the reference's weights)
    for node in spec.nodes:
        p = {k: stored[f"{node.name}.{k}"] for k in node.params}
        w = {k: np.asarray(v, dtype=dtype) for k, v in layouts.layout(node).to_mat(node, p, ctx).items()}
        # layouts are transposes, except where MATLAB holds less (an LSTM's one bias is the sum of
        # xnn's two, rounded to dtype): the reference uses what the file holds
        back = layouts.layout(node).from_mat(node, w, ctx)
        as_read.update({f"{node.name}.{k}": np.asarray(v).reshape(node.params[k].shape) for k, v in back.items()})
        cells.append({
            "name": node.name,
            "type": node.kind,
            "inputs": _cell(list(node.inputs)),
            "fields_json": json.dumps(node.layer.fields()),
            "in_shapes": _cell([_row(s) for s in node.in_shapes]),
            "out_shape": _row(node.out_shape),
            "out_format": ctx.formats[node.name],
            "export_json": json.dumps(layouts.export_notes(node, ctx)),
            "weights": w,
        })

    if ref_input is None:
        if n_ref < 1:
            raise FormatError(f"n_ref must be >= 1 (received {n_ref})")
        ref_input = default_ref_input(spec, n_ref, seed)
    ref_input = np.asarray(ref_input)
    if tuple(ref_input.shape[1:]) != spec.input_shape or ref_input.ndim < 2:
        raise FormatError(f"ref_input: shape {list(ref_input.shape)} does not match (N, {list(spec.input_shape)})")
    ref_input = ref_input.astype(spec.input.dtype if is_int else dtype)
    ref_output = forward(spec, {**stored, **as_read}, ref_input, dtype="float64")
    in_fmt, out_fmt = ctx.formats["input"], ctx.formats[spec.output.name]
    extra = {}
    if preprocess is not None:
        from .preprocess import to_mat

        extra["preprocess"] = to_mat(preprocess, spec, ctx)
    return {
        "xnn_format": np.int32(FORMAT_VERSION),
        "xnn_version": _xnn_version(),
        "saved_by": f"xnn {_xnn_version()} (Python)",
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "spec_name": spec.name,
        "spec_json": json.dumps(spec.raw),
        "dtype": dtype,
        "input_shape": _row(spec.input_shape),
        "input_dtype": spec.input.dtype,
        "input_format": in_fmt,
        "output_format": out_fmt,
        "layers": _cell(cells, row=False),
        "ref_input": layouts.to_dlarray_order(ref_input, in_fmt, is_int),
        "ref_output": layouts.to_dlarray_order(np.asarray(ref_output, np.float64), out_fmt),
        "ref_input_format": in_fmt,
        "ref_output_format": out_fmt,
        **extra,
    }


def _nbytes(v) -> int:
    if isinstance(v, np.ndarray) and v.dtype == object:
        return sum(_nbytes(x) for x in v.flat)
    if isinstance(v, dict):
        return sum(_nbytes(x) for x in v.values())
    if isinstance(v, str):
        return 2 * len(v)
    return int(np.asarray(v).nbytes)


def export_mat(spec, params: dict[str, np.ndarray], path: str | Path, *, compress: bool = False,
               ref_input: np.ndarray | None = None, n_ref: int = 4, seed: int = 0,
               version: str = "auto", preprocess: dict | None = None) -> Path:
    """Write ``spec`` and canonical ``params`` to ``path`` for matlab/+xnn (MATLAB and Octave).

    ``ref_input``: a batch ``(N, *spec.input.shape)`` channels-last (default: ``n_ref`` seeded
    samples); it is stored in MATLAB dlarray order (e.g. H x W x C x N for ``SSCB``) with the
    expected output of :func:`xnn.reference.forward` (both in the model's input space, i.e. after
    preprocessing). ``preprocess``: a run's fitted preprocessing (``manifest.json``), stored as the
    ``preprocess`` struct for ``xnn.predict(..., 'preprocess', true)``. ``version``: ``auto`` (v7,
    or v7.3 when a variable exceeds 2 GiB), ``7`` or ``7.3``. Written atomically; returns the path.
    """
    if version not in ("auto", "7", "7.3"):
        raise ValueError(f"version must be 'auto', '7' or '7.3' (received {version!r})")
    path = Path(path)
    variables = build_variables(spec, params, ref_input=ref_input, n_ref=n_ref, seed=seed, preprocess=preprocess)
    big = [k for k, v in variables.items() if _nbytes(v) > V7_MAX_VAR_BYTES]
    if version == "7" and big:
        raise FormatError(f"{path}: variable(s) {big} exceed the 2 GiB limit of MAT v7; use version='7.3'")
    if version == "7.3" or big:
        warnings.warn(f"{path}: written as MAT v7.3 (HDF5)"
                      + (f" because {big} exceed 2 GiB" if big else "")
                      + "; GNU Octave cannot read v7.3 files, MATLAB can", stacklevel=2)
        from .hdf5 import write_v73

        with atomic_path(path) as tmp:
            write_v73(tmp, variables)
        return path
    from scipy.io import savemat

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            savemat(f, variables, format="5", long_field_names=True, do_compression=compress,
                    oned_as="column")
    return path
