"""MAT v7.3 (HDF5) for the few value kinds xnn's .mat layout uses: char, numeric, cell, struct.

MATLAB's v7.3 conventions: a 512-byte user block holding the MAT header; every dataset/group has
a ``MATLAB_class`` attribute; arrays are stored with their dims reversed (numpy ``A.T``); char is
uint16; a cell is a dataset of object references into ``/#refs#``; a scalar struct is a group.
Reading accepts only these kinds (no objects, function handles, sparse) and bounds every size.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ...errors import FormatError

_CLASSES = {np.dtype("float64"): "double", np.dtype("float32"): "single", np.dtype("int64"): "int64",
            np.dtype("int32"): "int32", np.dtype("int16"): "int16", np.dtype("int8"): "int8",
            np.dtype("uint64"): "uint64", np.dtype("uint32"): "uint32", np.dtype("uint16"): "uint16",
            np.dtype("uint8"): "uint8"}
_NUMERIC = {v: k for k, v in _CLASSES.items()}


def mat73_header() -> bytes:
    text = (f"MATLAB 7.3 MAT-file, Platform: xnn, Created on: "
            f"{time.strftime('%a %b %d %H:%M:%S %Y', time.gmtime())} HDF5 schema 1.00 .").encode("ascii")
    return text.ljust(116, b" ") + b"\x00" * 8 + b"\x00\x02" + b"IM"


def write_v73(path: str | Path, variables: dict) -> None:
    """Write top-level ``variables`` (str, numpy arrays, dict = struct, object array = cell)."""
    import h5py

    with h5py.File(path, "w", userblock_size=512, libver="earliest") as f:
        refs = f.create_group("#refs#")
        counter = [0]
        for name, v in variables.items():
            _write(f, name, v, refs, counter)
    with open(path, "r+b") as fh:
        fh.write(mat73_header())


def _write(parent, name: str, v, refs, counter) -> None:
    import h5py

    if isinstance(v, str):
        data = np.frombuffer(v.encode("utf-16-le"), dtype=np.uint16).reshape(1, -1) if v else None
        _write_array(parent, name, data, "char", empty_shape=(0, 0))
        parent[name].attrs["MATLAB_int_decode"] = np.int32(2)
        return
    if isinstance(v, dict):
        g = parent.create_group(name)
        g.attrs["MATLAB_class"] = np.bytes_("struct")
        if v:
            vl = h5py.vlen_dtype(np.dtype("S1"))
            fields = np.empty(len(v), dtype=object)
            for i, k in enumerate(v):
                fields[i] = np.array(list(k.encode("ascii")), dtype="S1")
            g.attrs.create("MATLAB_fields", fields, dtype=vl)
        for k, x in v.items():
            _write(g, k, x, refs, counter)
        return
    a = np.asarray(v)
    if a.dtype == object and a.size == 0:  # an empty cell: MATLAB_empty with its dims
        _write_array(parent, name, a, "cell")
        return
    if a.dtype == object:
        shape = a.shape if a.ndim >= 2 else (1, a.size)
        out = np.empty(shape[::-1], dtype=h5py.ref_dtype)
        flat = a.reshape(shape)
        for idx in np.ndindex(*shape):
            key = _next_name(counter)
            _write(refs, key, flat[idx], refs, counter)
            out[idx[::-1]] = refs[key].ref
        ds = parent.create_dataset(name, data=out, dtype=h5py.ref_dtype)
        ds.attrs["MATLAB_class"] = np.bytes_("cell")
        return
    if a.dtype == np.bool_:
        _write_array(parent, name, a.astype(np.uint8), "logical")
        return
    if a.dtype not in _CLASSES:
        raise FormatError(f"{name}: cannot write dtype {a.dtype} to MAT v7.3")
    _write_array(parent, name, a, _CLASSES[a.dtype])


def _next_name(counter) -> str:
    counter[0] += 1
    n, s = counter[0], ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(97 + r) + s
    return s


def _write_array(parent, name, a, cls: str, empty_shape=None) -> None:
    if a is None or (isinstance(a, np.ndarray) and a.size == 0):
        shape = empty_shape if a is None else (a.shape if a.ndim >= 2 else (1, 0))
        ds = parent.create_dataset(name, data=np.array(shape, dtype=np.uint64))
        ds.attrs["MATLAB_empty"] = np.uint8(1)
    else:
        a = a.reshape(1, 1) if a.ndim == 0 else (a.reshape(-1, 1) if a.ndim == 1 else a)
        ds = parent.create_dataset(name, data=np.ascontiguousarray(a.T))
    ds.attrs["MATLAB_class"] = np.bytes_(cls)


# ------------------------------------------------------------------------------ reading
def read_v73(path: Path, names: tuple[str, ...], max_bytes: int) -> dict:
    """Read the top-level ``names`` that exist; values as the v7 reader returns them (plain types).

    Reads through the hardened :class:`~xnn.interop.mat.safe_h5.H5File` (no external storage or
    links, sizes checked before reading). Raises FormatError naming the file and variable for
    anything but char/numeric/cell/struct.
    """
    from .safe_h5 import H5File

    out = {}
    with H5File(path, FormatError, label="variable ", budget=max_bytes) as h:
        for n in names:
            if h.has(n):
                out[n] = h.guard(n, _read, h, h.child(None, n, n), n, 0)
    return out


def _read(h, obj, where: str, depth: int):
    import h5py

    if depth > 8:
        h.fail(where, "nested too deeply")
    if h.has_attr(obj, "MATLAB_object_decode") or h.has_attr(obj, "MATLAB_sparse"):
        h.fail(where, "MATLAB objects, function handles and sparse arrays are not accepted")
    cls = h.matlab_class(obj, where)
    if isinstance(obj, h5py.Group):
        if cls != "struct":
            h.fail(where, f"MATLAB class {cls!r} is not accepted")
        return {k: _read(h, h.child(obj, k, f"{where}.{k}"), f"{where}.{k}", depth + 1) for k in h.names(obj)}
    if h.attr(obj, "MATLAB_empty", where):
        dims = tuple(int(x) for x in h.read(obj, where).reshape(-1))
        if len(dims) > 32 or any(d < 0 for d in dims) or 0 not in dims:
            h.fail(where, f"MATLAB_empty with dims {list(dims)[:8]}; refused")
        if cls == "char":
            return ""
        if cls == "cell":
            return np.empty(dims, dtype=object)
        return np.zeros(dims, dtype=_NUMERIC.get(cls, np.float64))
    if cls == "cell":
        if h5py.check_ref_dtype(obj.dtype) is not h5py.Reference:
            h.fail(where, "a cell that does not hold object references")
        refs = h.read(obj, where)
        out = np.empty(refs.shape[::-1], dtype=object)
        for idx in np.ndindex(*refs.shape):
            w = f"{where}{{{','.join(str(i + 1) for i in idx[::-1])}}}"
            out[idx[::-1]] = _read(h, h.deref(refs[idx], w), w, depth + 1)
        return out
    if h5py.check_ref_dtype(obj.dtype) is not None:
        h.fail(where, f"MATLAB class {cls!r} holding references is not accepted")
    if cls == "char":
        codes = h.read(obj, where).T
        if codes.dtype.kind not in "iu":
            h.fail(where, "a char array that is not integer character codes")
        return np.asarray(codes, dtype=np.uint16).tobytes().decode("utf-16-le", "replace") if codes.shape[0] <= 1 \
            else [r.tobytes().decode("utf-16-le", "replace") for r in np.asarray(codes, np.uint16)]
    if cls == "logical":
        return h.read(obj, where).T.astype(bool)
    if cls not in _NUMERIC or obj.dtype.kind not in "iuf":
        h.fail(where, f"MATLAB class {cls!r} is not accepted")
    return h.read(obj, where).T.astype(_NUMERIC[cls], copy=False)
