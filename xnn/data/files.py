"""Readers for data files: ``.npz``, ``.npy`` (inputs only), ``.csv``, ``.mat`` (v4/v5/v7 through
scipy, v7.3 through h5py when installed). Untrusted input: sizes are bounded before anything is
read, nothing is unpickled, MATLAB objects and function handles are refused.

Every reader returns a :class:`RawData` with ``x`` ``(N, ...)`` exactly as stored (the sample axis
first) and ``y`` ``(N, ...)`` or ``None``; shapes are checked against a spec later
(:mod:`xnn.data.dataset`). Problems raise :class:`~xnn.errors.DataError` naming the file and field.
"""
from __future__ import annotations

import csv
import difflib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError

MAX_FILE_BYTES = 4 * 2**30  # on disk
MAX_ARRAY_BYTES = 4 * 2**30  # one array, uncompressed
MAX_CSV_BYTES = 512 * 2**20

SUFFIXES = (".npz", ".npy", ".csv", ".mat")
_MAT_NUMERIC = {"double", "single", "int8", "uint8", "int16", "uint16", "int32", "uint32", "int64",
                "uint64", "logical"}


@dataclass
class RawData:
    """Arrays as read from a source, before shape checks. ``classes``: names of string labels."""

    x: np.ndarray
    y: np.ndarray | None
    origin: str
    x_field: str = "x"
    y_field: str = "y"
    classes: list[str] | None = None


_OPTIONS = {
    ".npz": {"x_key", "y_key"},
    ".npy": set(),
    ".csv": {"target", "features", "delimiter"},
    ".mat": {"x_key", "y_key", "sample_axis"},
}


def check_options(options: dict, allowed: set[str], where: str) -> None:
    """DataError for every unknown key of ``data.options`` (with a did-you-mean hint)."""
    errors = []
    for k in options:
        if k not in allowed:
            close = difflib.get_close_matches(str(k), sorted(allowed), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            known = f"; known: {sorted(allowed)}" if allowed else "; it takes none"
            errors.append(f"data.options.{k}: unknown option for {where}{hint}{known}")
    if errors:
        raise DataError(errors)


def read_any(path: str | Path, options: dict | None = None, need_y: bool = True) -> RawData:
    """Read a data file by suffix. ``need_y=False`` makes the target optional (prediction input)."""
    p = Path(path)
    options = dict(options or {})
    suffix = p.suffix.lower()
    if suffix not in SUFFIXES:
        raise DataError(f"{p}: unknown data file type {suffix or '(no suffix)'!r}; use one of {list(SUFFIXES)}")
    check_options(options, _OPTIONS[suffix], f"{suffix} files")
    if not p.exists():
        raise DataError(f"{p}: no such file")
    if not p.is_file():
        raise DataError(f"{p}: not a regular file")
    size = p.stat().st_size
    limit = MAX_CSV_BYTES if suffix == ".csv" else MAX_FILE_BYTES
    if size > limit:
        raise DataError(f"{p}: {size} bytes is larger than the {limit}-byte limit")
    if size == 0:
        raise DataError(f"{p}: empty file")
    if suffix == ".npz":
        return _read_npz(p, options.get("x_key", "x"), options.get("y_key", "y"), need_y)
    if suffix == ".npy":
        if need_y:
            raise DataError(f"{p}: a .npy file holds inputs only; training data needs targets (use .npz, .csv or .mat)")
        return RawData(_read_npy(p), None, str(p))
    if suffix == ".csv":
        return _read_csv(p, options, need_y)
    return _read_mat(p, options, need_y)


# ------------------------------------------------------------------------------ checks
def _check_array(a: np.ndarray, origin: str, field: str, allow_strings: bool = False) -> np.ndarray:
    if a.dtype.hasobject:
        raise DataError(f"{origin}: {field}: holds Python objects; refused")
    if a.dtype.kind in "US":
        if allow_strings:
            return a
        raise DataError(f"{origin}: {field}: holds text, not numbers")
    if a.dtype.kind == "c":
        raise DataError(f"{origin}: {field}: complex numbers are not supported")
    if a.dtype.kind not in "biuf" or a.dtype.names is not None:
        raise DataError(f"{origin}: {field}: not a numeric array (dtype {a.dtype})")
    if a.ndim == 0:
        raise DataError(f"{origin}: {field}: a scalar, expected an array with one row per sample")
    return a


def _bound(nbytes: int, origin: str, field: str) -> None:
    if nbytes > MAX_ARRAY_BYTES:
        raise DataError(f"{origin}: {field}: {nbytes} bytes uncompressed is larger than the {MAX_ARRAY_BYTES}-byte limit")


# ------------------------------------------------------------------------------ npz / npy
def _npy_header(f, origin: str, field: str) -> tuple[tuple[int, ...], np.dtype]:
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    except (ValueError, OSError, EOFError, SyntaxError) as e:
        raise DataError(f"{origin}: {field}: not a valid .npy array ({str(e).splitlines()[0][:100]})") from None
    if dtype.hasobject:
        raise DataError(f"{origin}: {field}: holds Python objects (would need unpickling); refused")
    _bound(int(np.prod(shape, dtype=np.float64)) * dtype.itemsize, origin, field)
    return shape, dtype


def _read_npy(p: Path) -> np.ndarray:
    with open(p, "rb") as f:
        _npy_header(f, str(p), "x")
    try:
        a = np.load(p, allow_pickle=False)
    except (ValueError, OSError, EOFError) as e:
        raise DataError(f"{p}: not a readable .npy file ({str(e).splitlines()[0][:100]})") from None
    return _check_array(a, str(p), "x")


def _read_npz(p: Path, x_key: str, y_key: str, need_y: bool) -> RawData:
    origin = str(p)
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as e:
        raise DataError(f"{p}: not a readable .npz file ({str(e).splitlines()[0][:100]})") from None
    with zf:
        members = {n[:-4] if n.endswith(".npy") else n: n for n in zf.namelist()}
        out: dict[str, np.ndarray] = {}
        for key, field, required in ((x_key, "x", True), (y_key, "y", need_y)):
            if key not in members:
                if not required:
                    continue
                opt = "x_key" if field == "x" else "y_key"
                close = difflib.get_close_matches(key, list(members), n=1)
                hint = f" (did you mean '{close[0]}'? set data.options.{opt})" if close else f" (set data.options.{opt})"
                raise DataError(f"{p}: {key}: no such array; the file holds {sorted(members)}{hint}")
            info = zf.getinfo(members[key])
            _bound(info.file_size, origin, key)
            try:
                with zf.open(info) as f:
                    data = f.read()
                _npy_header(io.BytesIO(data), origin, key)
                a = np.load(io.BytesIO(data), allow_pickle=False)
            except DataError:
                raise
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, RuntimeError) as e:
                msg = str(e).splitlines()[0][:100] if str(e) else type(e).__name__
                raise DataError(f"{p}: {key}: cannot be read (truncated or corrupt: {msg})") from None
            except Exception as e:  # zlib.error and friends from a damaged member
                raise DataError(f"{p}: {key}: cannot be read (truncated or corrupt: {type(e).__name__})") from None
            out[field] = _check_array(a, origin, key, allow_strings=(field == "y"))
    y = out.get("y")
    classes = None
    if y is not None and y.dtype.kind in "US":
        y, classes = _encode_strings(y)
    return RawData(out["x"], y, origin, x_key, y_key, classes)


def _encode_strings(y: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Text labels -> integer indices into the sorted unique names."""
    classes, idx = np.unique(y.astype(str), return_inverse=True)
    return idx.reshape(y.shape).astype(np.int64), [str(c) for c in classes]


# ------------------------------------------------------------------------------ csv
def _read_csv(p: Path, options: dict, need_y: bool) -> RawData:
    origin = str(p)
    delim = options.get("delimiter", ",")
    if not isinstance(delim, str) or len(delim) != 1:
        raise DataError(f"data.options.delimiter: must be one character (received {delim!r})")
    try:
        text = p.read_text(encoding="utf-8-sig")
    except (UnicodeDecodeError, OSError) as e:
        raise DataError(f"{p}: not a readable UTF-8 text file ({str(e)[:100]})") from None
    try:
        rows = [r for r in csv.reader(io.StringIO(text), delimiter=delim) if r and any(c.strip() for c in r)]
    except csv.Error as e:
        raise DataError(f"{p}: not valid CSV ({e})") from None
    if not rows:
        raise DataError(f"{p}: no rows")
    header = [h.strip() for h in rows[0]]
    if all(_is_number(h) for h in header):
        raise DataError(f"{p}: the first row must be a header of column names (received {header[:5]})")
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise DataError(f"{p}: duplicate column names {dup}")
    body = rows[1:]
    if not body:
        raise DataError(f"{p}: a header but no data rows")
    for i, r in enumerate(body):
        if len(r) != len(header):
            raise DataError(f"{p}: row {i + 2}: {len(r)} fields, the header has {len(header)}")
    target = options.get("target")
    if target is not None and target not in header:
        close = difflib.get_close_matches(str(target), header, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        if need_y:
            raise DataError(f"{p}: target column {target!r} not found{hint}; columns: {header}")
        target = None
    if target is None and need_y:
        target = header[-1]
    feats = options.get("features")
    if feats is None:
        feats = [h for h in header if h != target]
    else:
        if not isinstance(feats, list):
            raise DataError(f"data.options.features: must be a list of column names (received {feats!r})")
        for f in feats:
            if f not in header:
                close = difflib.get_close_matches(str(f), header, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise DataError(f"{p}: feature column {f!r} not found{hint}; columns: {header}")
    if not feats:
        raise DataError(f"{p}: no feature columns besides the target {target!r}")
    cells = np.array(body, dtype=str)
    col = {h: i for i, h in enumerate(header)}
    x = _numeric_block(cells[:, [col[f] for f in feats]], feats, p)
    y, classes = None, None
    if target is not None:
        tcol = np.char.strip(cells[:, col[target]])
        try:
            y = tcol.astype(np.float64)
        except ValueError:
            y, classes = _encode_strings(tcol)
    return RawData(x, y, origin, "features", target or "y", classes)


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _numeric_block(block: np.ndarray, names: list[str], p: Path) -> np.ndarray:
    block = np.char.strip(block)
    try:
        return block.astype(np.float64)
    except ValueError:
        for i, row in enumerate(block):
            for j, c in enumerate(row):
                if not _is_number(c):
                    raise DataError(f"{p}: row {i + 2}, column {names[j]!r}: not a number (received {c[:40]!r})") from None
        raise


# ------------------------------------------------------------------------------ mat
def _read_mat(p: Path, options: dict, need_y: bool) -> RawData:
    origin = str(p)
    x_key, y_key = options.get("x_key", "x"), options.get("y_key", "y")
    axis = options.get("sample_axis", "first")
    if axis not in ("first", "last"):
        raise DataError(f"data.options.sample_axis: must be 'first' or 'last' (received {axis!r})")
    with open(p, "rb") as f:
        head = f.read(128)
    if head[:4] == b"\x89HDF" or b"MATLAB 7.3" in head[:116]:
        arrays = _read_mat73(p, x_key, y_key, need_y)
    else:
        arrays = _read_mat5(p, x_key, y_key, need_y)
    out = {}
    for field, a in arrays.items():
        if axis == "last":
            a = np.moveaxis(a, -1, 0)
        out[field] = a
    y = out.get("y")
    if y is not None and y.ndim == 2 and 1 in y.shape:
        y = y.reshape(-1)  # MATLAB has no 1-D arrays: a row or column vector of targets
    return RawData(out["x"], y, origin, x_key, y_key)


def _read_mat5(p: Path, x_key: str, y_key: str, need_y: bool) -> dict[str, np.ndarray]:
    import scipy.io

    try:
        info = scipy.io.whosmat(str(p))
    except NotImplementedError:
        return _read_mat73(p, x_key, y_key, need_y)
    except Exception as e:  # scipy raises ValueError, TypeError, OSError... on damaged headers
        raise DataError(f"{p}: not a readable .mat file ({type(e).__name__}: {str(e).splitlines()[0][:100] if str(e) else ''})") from None
    classes = {name: (shape, cls) for name, shape, cls in info}
    for name, (_, cls) in classes.items():
        if cls in ("object", "function", "opaque", "unknown"):
            what = {"function": "a function handle", "object": "a MATLAB object", "opaque": "a MATLAB object"}.get(cls, "an unknown MATLAB class")
            raise DataError(f"{p}: {name}: {what}; xnn reads numeric arrays only and refuses this file")
    want = []
    for key, field, required in ((x_key, "x", True), (y_key, "y", need_y)):
        if key not in classes:
            if required:
                opt = "x_key" if field == "x" else "y_key"
                close = difflib.get_close_matches(key, list(classes), n=1)
                hint = f" (did you mean '{close[0]}'? set data.options.{opt})" if close else f" (set data.options.{opt})"
                raise DataError(f"{p}: {key}: no such variable; the file holds {sorted(classes)}{hint}")
            continue
        shape, cls = classes[key]
        if cls not in _MAT_NUMERIC:
            raise DataError(f"{p}: {key}: a MATLAB {cls}, not a numeric array")
        _bound(int(np.prod(shape, dtype=np.float64)) * 8, str(p), key)
        want.append((key, field))
    try:
        m = scipy.io.loadmat(str(p), variable_names=[k for k, _ in want], squeeze_me=False,
                             mat_dtype=False, struct_as_record=True, verify_compressed_data_integrity=True)
    except Exception as e:
        raise DataError(f"{p}: not a readable .mat file ({type(e).__name__}: {str(e).splitlines()[0][:100] if str(e) else ''})") from None
    out = {}
    for key, field in want:
        if key not in m:
            raise DataError(f"{p}: {key}: could not be read")
        out[field] = _check_array(np.asarray(m[key]), str(p), key)
    return out


def _read_mat73(p: Path, x_key: str, y_key: str, need_y: bool) -> dict[str, np.ndarray]:
    try:
        import h5py
    except ImportError:
        raise DataError(f"{p}: a MATLAB v7.3 (HDF5) file; install h5py to read it, or save with -v7") from None
    try:
        f = h5py.File(p, "r")
    except Exception as e:
        raise DataError(f"{p}: not a readable MATLAB v7.3 file ({type(e).__name__})") from None
    out: dict[str, np.ndarray] = {}
    with f:
        names = [k for k in f.keys() if not k.startswith("#")]
        for name in names:
            cls = _h5_class(f[name])
            if cls in ("function_handle",) or (cls not in _MAT_NUMERIC and cls not in ("struct", "cell", "char", "")):
                raise DataError(f"{p}: {name}: a MATLAB {cls or 'object'}; xnn reads numeric arrays only and refuses this file")
        for key, field, required in ((x_key, "x", True), (y_key, "y", need_y)):
            if key not in names:
                if required:
                    opt = "x_key" if field == "x" else "y_key"
                    raise DataError(f"{p}: {key}: no such variable; the file holds {sorted(names)} (set data.options.{opt})")
                continue
            obj = f[key]
            cls = _h5_class(obj)
            if not isinstance(obj, h5py.Dataset) or cls not in _MAT_NUMERIC:
                raise DataError(f"{p}: {key}: a MATLAB {cls or 'group'}, not a numeric array")
            if obj.dtype.kind not in "biuf":
                raise DataError(f"{p}: {key}: not a numeric array (dtype {obj.dtype})")
            _bound(int(np.prod(obj.shape, dtype=np.float64)) * obj.dtype.itemsize, str(p), key)
            try:
                a = obj[()]
            except Exception as e:
                raise DataError(f"{p}: {key}: cannot be read ({type(e).__name__})") from None
            out[field] = np.asarray(a).T  # HDF5 holds MATLAB's column-major arrays transposed
    return out


def _h5_class(obj: Any) -> str:
    c = obj.attrs.get("MATLAB_class", b"")
    return c.decode("ascii", "replace") if isinstance(c, bytes) else str(c)
