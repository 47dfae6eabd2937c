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

from ..errors import DataError, FormatError
from ..limits import limit

MAX_FILE_BYTES = 4 * 2**30  # on disk
MAX_CSV_BYTES = 512 * 2**20  # a CSV file on disk
MAX_CSV_COLUMNS = 100_000  # columns of a CSV file
MAX_CSV_ROW_CHARS = 8 * 2**20  # characters of one CSV row (its physical lines together)


def __getattr__(name: str):  # MAX_ARRAY_BYTES follows xnn.limits (XNN_LIMIT_MAX_ARRAY_BYTES)
    if name == "MAX_ARRAY_BYTES":
        return limit("MAX_ARRAY_BYTES")
    raise AttributeError(name)


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


def _bound(nbytes: int, origin: str, field: str, shape: tuple | None = None) -> None:
    """Refuse, before anything is allocated, an array larger than MAX_ARRAY_BYTES or of rank above
    MAX_ARRAY_DIMS (``xnn.limits``)."""
    if shape is not None and len(shape) > limit("MAX_ARRAY_DIMS"):
        raise DataError(f"{origin}: {field}: {len(shape)} dimensions, more than the limit of "
                        f"{limit('MAX_ARRAY_DIMS')} (XNN_LIMIT_MAX_ARRAY_DIMS)")
    cap = limit("MAX_ARRAY_BYTES")
    if nbytes > cap:
        what = f"shape {list(shape)}: " if shape is not None and len(shape) <= 8 else ""
        raise DataError(f"{origin}: {field}: {what}{nbytes} bytes uncompressed is larger than the limit of "
                        f"{cap} bytes (XNN_LIMIT_MAX_ARRAY_BYTES)")


# ------------------------------------------------------------------------------ npz / npy
def _npy_header(f, origin: str, field: str, available: int | None = None) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from a .npy header, checked against the limits (and against the
    ``available`` bytes that hold header and data) before any data is read."""
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            shape, _, dtype = np.lib.format._read_array_header(f, version)
        at = f.tell()
    except Exception as e:  # ValueError, SyntaxError (a bad header); EOFError, zlib.error, BadZipFile (damage)
        msg = str(e).splitlines()[0][:100] if str(e) else type(e).__name__
        if isinstance(e, (ValueError, SyntaxError)) and not isinstance(e, zipfile.BadZipFile):
            raise DataError(f"{origin}: {field}: not a valid .npy array ({msg})") from None
        raise DataError(f"{origin}: {field}: cannot be read (truncated or corrupt: {msg})") from None
    if dtype.hasobject:
        raise DataError(f"{origin}: {field}: holds Python objects (would need unpickling); refused")
    nbytes = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
    _bound(nbytes, origin, field, tuple(shape))
    if available is not None and at + nbytes > available:
        raise DataError(f"{origin}: {field}: the header declares {nbytes} bytes of data but only "
                        f"{max(available - at, 0)} follow (truncated or corrupt)")
    return shape, dtype


def _read_npy(p: Path) -> np.ndarray:
    with open(p, "rb") as f:
        _npy_header(f, str(p), "x", available=p.stat().st_size)
        try:
            f.seek(0)
            a = np.lib.format.read_array(f, allow_pickle=False)
        except Exception as e:
            msg = str(e).splitlines()[0][:100] if str(e) else type(e).__name__
            raise DataError(f"{p}: not a readable .npy file ({msg})") from None
    return _check_array(a, str(p), "x")


def _read_npz(p: Path, x_key: str, y_key: str, need_y: bool) -> RawData:
    origin = str(p)
    try:
        zf = zipfile.ZipFile(p)
    except Exception as e:  # BadZipFile, OSError, ValueError, EOFError, struct.error...
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
            if info.flag_bits & 0x1:
                raise DataError(f"{p}: {key}: an encrypted zip member; refused")
            try:
                with zf.open(info) as f:  # the header first: sizes are checked before the data is read
                    _npy_header(f, origin, key, available=info.file_size)
                with zf.open(info) as f:
                    a = np.lib.format.read_array(f, allow_pickle=False)
            except DataError:
                raise
            except MemoryError:
                raise DataError(f"{p}: {key}: does not fit in memory") from None
            except Exception as e:  # BadZipFile, zlib.error, EOFError, ValueError from a damaged member
                msg = str(e).splitlines()[0][:100] if str(e) else type(e).__name__
                raise DataError(f"{p}: {key}: cannot be read (truncated or corrupt: {msg})") from None
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
class _Lines:
    """The physical lines of a text file for ``csv.reader``, each line and each row (its lines
    together) bounded before the csv module turns it into cells."""

    def __init__(self, fh, origin: str):
        self.fh, self.origin, self.row_chars, self.line = fh, origin, 0, 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        try:
            text = self.fh.readline(MAX_CSV_ROW_CHARS + 1)
        except UnicodeDecodeError as e:
            raise DataError(f"{self.origin}: line {self.line + 1}: not UTF-8 text (byte {e.start} of a chunk)") from None
        if not text:
            raise StopIteration
        self.line += 1
        self.row_chars += len(text)
        if self.row_chars > MAX_CSV_ROW_CHARS:
            raise DataError(f"{self.origin}: line {self.line}: a row longer than {MAX_CSV_ROW_CHARS} characters; refused")
        if "\0" in text:
            raise DataError(f"{self.origin}: line {self.line}: holds a NUL character (not a text file)")
        return text


def _csv_rows(p: Path, delim: str):
    """(line number, cells) of every non-blank row; cells bounded by MAX_CSV_CELL_BYTES and rows by
    MAX_CSV_COLUMNS before anything is converted."""
    cell_cap = limit("MAX_CSV_CELL_BYTES")
    old_limit = csv.field_size_limit()
    try:
        fh = open(p, encoding="utf-8-sig", newline="")
    except OSError as e:
        raise DataError(f"{p}: cannot be read ({e.strerror or e})") from None
    with fh:
        lines = _Lines(fh, str(p))
        csv.field_size_limit(cell_cap + 1)
        try:
            reader = csv.reader(lines, delimiter=delim)
            while True:
                start = lines.line + 1
                try:
                    r = next(reader)
                except StopIteration:
                    return
                except csv.Error as e:
                    msg = str(e)
                    if "field larger than field limit" in msg:
                        raise DataError(f"{p}: line {lines.line}: a cell larger than {cell_cap} bytes "
                                        f"(XNN_LIMIT_MAX_CSV_CELL_BYTES)") from None
                    raise DataError(f"{p}: line {lines.line}: not valid CSV ({msg})") from None
                lines.row_chars = 0
                if len(r) > MAX_CSV_COLUMNS:
                    raise DataError(f"{p}: line {start}: {len(r)} columns, more than the limit of {MAX_CSV_COLUMNS}")
                for c in r:
                    if len(c) > cell_cap // 4 and len(c.encode("utf-8")) > cell_cap:
                        raise DataError(f"{p}: line {start}: a cell larger than {cell_cap} bytes "
                                        f"(XNN_LIMIT_MAX_CSV_CELL_BYTES)")
                if r and any(c.strip() for c in r):
                    yield start, r
        finally:
            csv.field_size_limit(old_limit)


def _read_csv(p: Path, options: dict, need_y: bool) -> RawData:
    origin = str(p)
    delim = options.get("delimiter", ",")
    if not isinstance(delim, str) or len(delim) != 1:
        raise DataError(f"data.options.delimiter: must be one character (received {delim!r})")
    rows = _csv_rows(p, delim)
    try:
        _, first = next(rows)
    except StopIteration:
        raise DataError(f"{p}: no rows") from None
    header = [h.strip() for h in first]
    if all(_is_number(h) for h in header):
        raise DataError(f"{p}: the first row must be a header of column names (received {header[:5]})")
    if len(set(header)) != len(header):
        dup = sorted({h for h in header if header.count(h) > 1})
        raise DataError(f"{p}: duplicate column names {dup[:10]}")
    target = options.get("target")
    if target is not None and target not in header:
        close = difflib.get_close_matches(str(target), header, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        if need_y:
            raise DataError(f"{p}: target column {target!r} not found{hint}; columns: {header[:50]}")
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
                raise DataError(f"{p}: feature column {f!r} not found{hint}; columns: {header[:50]}")
    if not feats:
        raise DataError(f"{p}: no feature columns besides the target {target!r}")
    col = {h: i for i, h in enumerate(header)}
    fidx = [col[f] for f in feats]
    tidx = col[target] if target is not None else None
    cap = limit("MAX_ARRAY_BYTES")
    block, blocks, targets, n = [], [], [], 0
    for line, r in rows:
        if len(r) != len(header):
            raise DataError(f"{p}: row {line}: {len(r)} fields, the header has {len(header)}")
        vals = []
        for j in fidx:
            c = r[j].strip()
            try:
                vals.append(float(c))
            except ValueError:
                raise DataError(f"{p}: row {line}, column {header[j]!r}: not a number (received {c[:40]!r})") from None
        block.append(vals)
        if tidx is not None:
            targets.append(r[tidx].strip())
        n += 1
        if n * (len(fidx) + 1) * 8 > cap:
            raise DataError(f"{p}: {n} rows of {len(fidx)} features exceed the limit of {cap} bytes "
                            f"(XNN_LIMIT_MAX_ARRAY_BYTES)")
        if len(block) >= 4096:
            blocks.append(np.asarray(block, dtype=np.float64))
            block = []
    if block:
        blocks.append(np.asarray(block, dtype=np.float64))
    if not n:
        raise DataError(f"{p}: a header but no data rows")
    x = np.concatenate(blocks, axis=0)
    y, classes = None, None
    if target is not None:
        try:
            y = np.array([float(t) for t in targets], dtype=np.float64)
        except ValueError:  # text labels: indices into the sorted names (no fixed-width string array)
            classes = sorted(set(targets))
            lut = {c: i for i, c in enumerate(classes)}
            y = np.array([lut[t] for t in targets], dtype=np.int64)
    return RawData(x, y, origin, "features", target or "y", classes)


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


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
    fmts = {f: arrays.pop(f"{f}_format") for f in ("x", "y") if f"{f}_format" in arrays}
    out = {}
    for field, a in arrays.items():
        key = x_key if field == "x" else y_key
        if field in fmts:  # the file says its order (xnn writes <key>_format): that rule, not sample_axis
            from ..interop.mat.data import check_format, from_matlab

            fmt = check_format(fmts[field], f"{p}: {key}_format")
            if "sample_axis" in options and fmt.index("B") != (0 if axis == "first" else len(fmt) - 1):
                raise DataError(f"{p}: {key}_format is {fmt!r} (samples on axis {fmt.index('B') + 1} of {len(fmt)}), "
                                f"which data.options.sample_axis: {axis} contradicts; leave sample_axis out")
            a = from_matlab(a, fmt, f"{p}: {key}")
        elif axis == "last":
            a = np.moveaxis(a, -1, 0)
        out[field] = a
    y = out.get("y")
    if y is not None and y.ndim == 2 and 1 in y.shape:
        y = y.reshape(-1)  # MATLAB has no 1-D arrays: a row or column vector of targets
    return RawData(out["x"], y, origin, x_key, y_key)


_MAT_ITEMSIZE = {"double": 8, "single": 4, "int8": 1, "uint8": 1, "int16": 2, "uint16": 2, "int32": 4,
                 "uint32": 4, "int64": 8, "uint64": 8, "logical": 1}


def _read_mat5(p: Path, x_key: str, y_key: str, need_y: bool) -> dict[str, np.ndarray]:
    import scipy.io

    with open(p, "rb") as f:
        head = f.read(128)
    if head.startswith(b"MATLAB") and len(head) == 128:
        from ..interop.mat.reader import scan_v5

        if (head[124:126], head[126:128]) in ((b"\x00\x02", b"IM"), (b"\x02\x00", b"MI")):
            return _read_mat73(p, x_key, y_key, need_y)  # an HDF5 file behind a MAT header
        # every top-level element complete and its inflated size bounded before scipy inflates it
        try:
            scan_v5(p, limit("MAX_ARRAY_BYTES") * 4, check_classes=False)
        except FormatError as e:
            why = e.messages[0].removeprefix(f"{p}: ")
            raise DataError(f"{p}: not a readable .mat file ({why})") from None
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
    for key, field in ((x_key, "x"), (y_key, "y")):  # the order the file states (xnn's data files)
        shape, cls = classes.get(f"{key}_format", ((), None))
        if cls is not None and key in classes:
            if cls != "char" or int(np.prod(shape)) > 16:
                raise DataError(f"{p}: {key}_format: must be a short char row such as 'SSCB' (a MATLAB {cls} {list(shape)})")
            want.append((f"{key}_format", f"{field}_format"))
    for key, field, required in ((x_key, "x", True), (y_key, "y", need_y)):
        if key not in classes:
            if required:
                opt = "x_key" if field == "x" else "y_key"
                close = difflib.get_close_matches(key, list(classes), n=1)
                hint = f" (did you mean '{close[0]}'? set data.options.{opt})" if close else f" (set data.options.{opt})"
                raise DataError(f"{p}: {key}: no such variable; the file holds {sorted(classes)[:50]}{hint}")
            continue
        shape, cls = classes[key]
        if cls not in _MAT_NUMERIC:
            raise DataError(f"{p}: {key}: a MATLAB {cls}, not a numeric array")
        _bound(int(np.prod(shape, dtype=np.float64)) * _MAT_ITEMSIZE.get(cls, 8), str(p), key, tuple(shape))
        want.append((key, field))
    try:
        m = scipy.io.loadmat(str(p), variable_names=[k for k, _ in want], squeeze_me=False,
                             mat_dtype=False, struct_as_record=True, verify_compressed_data_integrity=True)
    except MemoryError:
        raise DataError(f"{p}: does not fit in memory") from None
    except Exception as e:
        raise DataError(f"{p}: not a readable .mat file ({type(e).__name__}: {str(e).splitlines()[0][:100] if str(e) else ''})") from None
    out = {}
    for key, field in want:
        if key not in m:
            raise DataError(f"{p}: {key}: could not be read")
        if field.endswith("_format"):
            v = np.asarray(m[key])
            out[field] = "".join(str(c) for c in v.reshape(-1)) if v.dtype.kind == "U" else ""
            continue
        a = np.asarray(m[key])
        if a.dtype.hasobject:
            raise DataError(f"{p}: {key}: holds MATLAB objects or cells; xnn reads numeric arrays only")
        if tuple(a.shape) != tuple(classes[key][0]):
            raise DataError(f"{p}: {key}: holds shape {list(a.shape)}, its header says {list(classes[key][0])} (corrupt)")
        out[field] = _check_array(a, str(p), key)
    return out


def _read_mat73(p: Path, x_key: str, y_key: str, need_y: bool) -> dict[str, np.ndarray]:
    """A v7.3 (HDF5) file through the one hardened HDF5 reader (no external storage or links,
    sizes checked before reading)."""
    import h5py

    from ..interop.mat.safe_h5 import H5File

    out: dict[str, np.ndarray] = {}
    with H5File(p, DataError, label="", what="MATLAB v7.3 file") as h:
        names = h.names()
        for name in names:
            obj = h.child(None, name, name)
            cls = h.matlab_class(obj, name)
            if cls in ("function_handle",) or (cls not in _MAT_NUMERIC and cls not in ("struct", "cell", "char", "")):
                raise DataError(f"{p}: {name}: a MATLAB {cls or 'object'}; xnn reads numeric arrays only and refuses this file")
            if h.has_attr(obj, "MATLAB_object_decode"):
                raise DataError(f"{p}: {name}: a MATLAB object; xnn reads numeric arrays only and refuses this file")
        for key, field, required in ((x_key, "x", True), (y_key, "y", need_y)):
            if key not in names:
                if required:
                    opt = "x_key" if field == "x" else "y_key"
                    raise DataError(f"{p}: {key}: no such variable; the file holds {sorted(names)[:50]} (set data.options.{opt})")
                continue
            obj = h.child(None, key, key)
            cls = h.matlab_class(obj, key)
            if not isinstance(obj, h5py.Dataset) or cls not in _MAT_NUMERIC:
                raise DataError(f"{p}: {key}: a MATLAB {cls or 'group'}, not a numeric array")
            if h.has_attr(obj, "MATLAB_sparse") or h.attr(obj, "MATLAB_empty", key):
                raise DataError(f"{p}: {key}: a sparse or empty MATLAB array, not a numeric array")
            a = h.read(obj, key)
            if a.dtype.kind not in "biuf":
                raise DataError(f"{p}: {key}: not a numeric array (dtype {a.dtype})")
            out[field] = a.T  # HDF5 holds MATLAB's column-major arrays transposed
            fk = f"{key}_format"
            if fk in names:
                fobj = h.child(None, fk, fk)
                if not isinstance(fobj, h5py.Dataset) or h.matlab_class(fobj, fk) != "char" or fobj.size > 16:
                    raise DataError(f"{p}: {fk}: must be a short char row such as 'SSCB'")
                codes = np.asarray(h.read(fobj, fk)).reshape(-1)
                if codes.dtype.kind not in "iu":
                    raise DataError(f"{p}: {fk}: must be a short char row such as 'SSCB'")
                out[f"{field}_format"] = "".join(chr(int(c)) for c in codes if 0 < int(c) < 128)
    return out
