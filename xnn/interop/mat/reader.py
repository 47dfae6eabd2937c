"""Read an xnn .mat file (v7 or v7.3) back into a spec dict and canonical weights.

Untrusted input: the header and every top-level element are checked and sizes bounded before
scipy parses anything (compressed elements are inflated with a cap); only plain char, numeric,
cell and scalar-struct values are accepted (MATLAB objects, function handles, opaque classes and
sparse arrays are rejected); nothing is unpickled and nothing is written. Every problem raises
:class:`xnn.errors.FormatError` naming the file and the variable.
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from ...errors import FormatError, SpecError
from ...limits import limit, loads_json
from . import layouts
from .writer import FORMAT_VERSION

MAX_MAT_BYTES = 8 * 2**30  # file size and total (inflated) data size
KNOWN = ("xnn_format", "xnn_version", "saved_by", "created", "spec_name", "spec_json", "dtype",
         "input_shape", "input_dtype", "input_format", "output_format", "layers", "ref_input",
         "ref_output", "ref_input_format", "ref_output_format", "preprocess")
_MI_MATRIX, _MI_COMPRESSED = 14, 15


def mat_version(path: Path, head: bytes) -> str:
    """``7`` (MAT 5 container, v6/v7) or ``7.3`` (HDF5) from the 128-byte header."""
    if len(head) < 128:
        raise FormatError(f"{path}: truncated (shorter than the 128-byte MAT header)")
    if not head.startswith(b"MATLAB"):
        raise FormatError(f"{path}: not a MAT file (no 'MATLAB' header; v4 files are not supported)")
    ver, endian = head[124:126], head[126:128]
    if endian not in (b"IM", b"MI"):
        raise FormatError(f"{path}: corrupt MAT header (endian indicator {endian!r})")
    v = int.from_bytes(ver, "little" if endian == b"IM" else "big")
    if v == 0x0100:
        return "7"
    if v == 0x0200:
        return "7.3"
    raise FormatError(f"{path}: unknown MAT version 0x{v:04x}")


def scan_v5(path: Path, max_bytes: int, check_classes: bool = True, error: type = FormatError) -> None:
    """Walk the top-level elements: each complete, only (compressed) matrices, inflated size bounded
    (each element by ``MAX_ARRAY_BYTES``, all together by ``max_bytes``). ``check_classes=False``
    leaves the MATLAB class checks to the caller. Raises ``error`` (FormatError or DataError)."""
    try:
        _scan_v5(path, max_bytes, check_classes)
    except FormatError as e:
        if error is FormatError:
            raise
        raise error(e.messages) from None
    except OSError as e:
        raise error(f"{path}: cannot be read ({e.strerror or e})") from None


def _scan_v5(path: Path, max_bytes: int, check_classes: bool) -> None:
    size = path.stat().st_size
    per = limit("MAX_ARRAY_BYTES")
    with open(path, "rb") as f:
        head = f.read(128)
        e = "<" if head[126:128] == b"IM" else ">"
        total, pos = 0, 128
        while pos < size:
            tag = f.read(8)
            if len(tag) < 8:
                raise FormatError(f"{path}: truncated element tag at byte {pos}")
            mdtype, nbytes = struct.unpack(e + "II", tag)
            pos += 8
            if pos + nbytes > size:
                raise FormatError(f"{path}: truncated (an element of {nbytes} bytes runs past the end of the file)")
            if mdtype == _MI_MATRIX:
                total += nbytes
                payload = f.read(min(nbytes, 512))
                if nbytes > per:
                    raise FormatError(f"{path}: variable {_var_name(payload, e)}: {nbytes} bytes, larger than the "
                                      f"limit of {per} bytes (XNN_LIMIT_MAX_ARRAY_BYTES)")
                if check_classes:
                    _check_class(path, payload, e)
                f.seek(pos)
                _walk_matrix(path, _Bytes(_file_chunks(f, nbytes)), nbytes, e, 0)
                f.seek(pos + nbytes)
                pos += nbytes
            elif mdtype == _MI_COMPRESSED:
                counter = [0, b""]
                src = _Bytes(_inflate_chunks(path, f, nbytes, min(max_bytes - total, per), counter))
                try:
                    t, n = struct.unpack(e + "II", src.read(8))
                except ValueError:
                    raise FormatError(f"{path}: a compressed element does not hold a matrix") from None
                if t != _MI_MATRIX:
                    raise FormatError(f"{path}: a compressed element does not hold a matrix")
                if check_classes:
                    _check_class(path, src.peek(512), e)
                _walk_matrix(path, src, n, e, 0)
                src.drain()  # the rest of the stream: inflated size bounded, end of stream present
                total += counter[0]
                f.seek(pos + nbytes)
                pos += nbytes
            else:
                raise FormatError(f"{path}: unexpected top-level element type {mdtype} at byte {pos - 8}")
            if total > max_bytes:
                raise FormatError(f"{path}: data larger than the limit of {max_bytes} bytes")


# ------------------------------------------------------------------------------ structure walk
# scipy's MAT 5 parser (Cython) indexes tables by the data type and class of each element
# without checking them: an unknown type in a damaged or hostile file crashes the process. Every
# element is therefore walked here first, without keeping any data.
_MI_TYPES = {1, 2, 3, 4, 5, 6, 7, 9, 12, 13, 16, 17, 18}  # miINT8..miUINT64, miSINGLE, miDOUBLE, miUTF*
_MI_INT8, _MI_INT32, _MI_UINT32 = 1, 5, 6
_CHUNK = 1 << 20


def _file_chunks(f, n: int):
    while n:
        b = f.read(min(n, _CHUNK))
        if not b:
            return
        n -= len(b)
        yield b


def _inflate_chunks(path: Path, f, nbytes: int, cap: int, counter: list):
    """Inflate one compressed element in pieces, stopping past ``cap`` inflated bytes."""
    d = zlib.decompressobj()
    left = nbytes
    try:
        while not d.eof:
            if d.unconsumed_tail:
                src = d.unconsumed_tail
            elif left:
                src = f.read(min(left, _CHUNK))
                left -= len(src)
                if not src:
                    break
            else:
                break
            out = d.decompress(src, _CHUNK)
            counter[0] += len(out)
            if counter[0] > cap:
                raise FormatError(f"{path}: variable {counter[1] or '?'}: compressed data inflates past the limit "
                                  f"of {max(cap, 0)} bytes (XNN_LIMIT_MAX_ARRAY_BYTES)")
            if out:
                yield out
    except zlib.error as e:
        raise FormatError(f"{path}: corrupt compressed element ({e})") from None
    if not d.eof:
        raise FormatError(f"{path}: truncated compressed element")


class _Bytes:
    """Sequential reads over an iterator of byte chunks; ``pos`` counts bytes consumed."""

    def __init__(self, chunks):
        self.it, self.buf, self.off, self.pos = chunks, b"", 0, 0

    def _fill(self) -> bool:
        while self.off >= len(self.buf):
            nxt = next(self.it, None)
            if nxt is None:
                return False
            self.buf, self.off = nxt, 0
        return True

    def read(self, k: int) -> bytes:
        parts = []
        while k:
            if not self._fill():
                raise ValueError("short")
            take = self.buf[self.off:self.off + k]
            self.off += len(take)
            self.pos += len(take)
            k -= len(take)
            parts.append(take)
        return b"".join(parts)

    def skip(self, k: int) -> None:
        while k:
            if not self._fill():
                raise ValueError("short")
            n = min(k, len(self.buf) - self.off)
            self.off += n
            self.pos += n
            k -= n

    def peek(self, k: int) -> bytes:
        self._fill()
        return self.buf[self.off:self.off + k]

    def drain(self) -> None:
        for _ in self.it:
            pass


def _tag(src: _Bytes, e: str) -> tuple[int, int, bytes | None]:
    """(type, byte count, small-element payload or None) of the next element tag."""
    first, second = struct.unpack(e + "II", src.read(8))
    if first >> 16:  # small data element: the data is in the tag's second word
        return first & 0xFFFF, first >> 16, struct.pack(e + "I", second)
    return first, second, None


def _sub(src: _Bytes, e: str, max_n: int) -> tuple[int, bytes]:
    t, n, small = _tag(src, e)
    if small is not None:
        return t, small[:n]
    if n > max_n:
        raise ValueError("a header element too large")
    data = src.read(n)
    src.skip((8 - n % 8) % 8)
    return t, data


def _walk_matrix(path: Path, src: _Bytes, nbytes: int, e: str, depth: int, where: str = "") -> None:
    """Check one miMATRIX element (its tag already read) against the layout scipy will read: array
    flags, dims and name well formed; a known class; then exactly the sub-elements that class has
    (real and imaginary parts, sparse indices, cell and struct members), each of a known type and
    within its element; nesting bounded. Objects, function handles and opaque classes are skipped
    at the top level (the class checks refuse them) and refused inside cells and structs."""
    name = where or "?"
    try:
        if nbytes == 0:  # an empty array in a cell or struct
            return
        end = src.pos + nbytes
        t, flags = _sub(src, e, 8)
        if t != _MI_UINT32 or len(flags) < 4:
            raise ValueError("bad array flags")
        word = struct.unpack(e + "I", flags[:4])[0]
        cls, is_complex = word & 0xFF, bool(word & 0x0800)
        t, dims = _sub(src, e, 4096)
        if t != _MI_INT32 or len(dims) < 8 or len(dims) % 4:
            raise ValueError("bad dimensions")
        t, raw = _sub(src, e, 1 << 16)
        if t != _MI_INT8:
            raise ValueError("bad name")
        if not where:
            name = raw.decode("ascii", "replace")[:64] or "?"
        if len(dims) // 4 > limit("MAX_ARRAY_DIMS"):
            raise FormatError(f"{path}: variable {name}: {len(dims) // 4} dimensions, more than the limit of "
                              f"{limit('MAX_ARRAY_DIMS')} (XNN_LIMIT_MAX_ARRAY_DIMS)")
        if not 1 <= cls <= 18:
            raise FormatError(f"{path}: variable {name}: unknown MATLAB class {cls}")
        if depth > limit("MAX_NESTING"):
            raise FormatError(f"{path}: variable {name}: nested deeper than {limit('MAX_NESTING')} levels")
        shape = struct.unpack(f"{e}{len(dims) // 4}i", dims)
        if any(d < 0 for d in shape):
            raise ValueError("negative dimensions")
        count = 1
        for d in shape:
            count *= d

        def data(what: str) -> None:
            t, n, small = _tag(src, e)
            if t not in _MI_TYPES:
                raise FormatError(f"{path}: variable {name}: unknown MAT data type {t} for {what}")
            if small is None:
                pad = (8 - n % 8) % 8
                if src.pos + n > end:
                    raise ValueError(f"{what} runs past its matrix")
                src.skip(n + pad if src.pos + n + pad <= end else n)

        def members(k: int) -> None:
            if k * 8 > end - src.pos:
                raise ValueError(f"{k} members do not fit in {end - src.pos} bytes")
            for _ in range(k):
                t, n, small = _tag(src, e)
                if t != _MI_MATRIX or small is not None or src.pos + n > end:
                    raise ValueError("a cell or struct member that is not a matrix")
                _walk_matrix(path, src, n, e, depth + 1, name)

        if cls in (3, 16, 17, 18):  # object, function handle, opaque, object from matrix
            if depth:
                raise FormatError(f"{path}: variable {name}: holds a function handle or opaque object; "
                                  f"MATLAB objects, function handles and opaque classes are not accepted")
            src.skip(end - src.pos)
            return
        if cls == 1:  # cell
            members(count)
        elif cls == 2:  # struct
            t, ln = _sub(src, e, 8)
            if t != _MI_INT32 or len(ln) != 4:
                raise ValueError("bad field name length")
            width = struct.unpack(e + "i", ln)[0]
            t, names = _sub(src, e, 1 << 24)
            if t != _MI_INT8 or width <= 0 and names or width > 0 and len(names) % width:
                raise ValueError("bad field names")
            n_fields = len(names) // width if width > 0 else 0
            if not n_fields and count > 65536:  # scipy makes one object per element even without fields
                raise ValueError(f"a struct array of {count} elements without fields")
            members(count * n_fields)
        elif cls == 5:  # sparse: row indices, column starts, values (and imaginary values)
            for what in ("row indices", "column starts", "values") + (("imaginary values",) if is_complex else ()):
                data(what)
        else:  # char and numeric
            data("the data")
            if is_complex:
                data("the imaginary part")
        if src.pos != end:
            raise ValueError("element sizes disagree")
    except (ValueError, struct.error) as err:
        raise FormatError(f"{path}: variable {name}: corrupt matrix ({err})") from None


# MATLAB classes that are never plain data: objects, function handles, opaque (string, table...)
_REJECTED_CLASSES = {3: "an object", 16: "a function handle", 17: "an opaque object", 18: "an object"}
_CLASS_NAMES = {1: "cell", 2: "struct", 4: "char", 5: "sparse", **{c: "numeric" for c in range(6, 16)}}


def _subelement(buf: bytes, at: int, e: str) -> tuple[int, bytes, int]:
    """(type, data, next offset) of a MAT 5 subelement, small-data format included."""
    if at + 8 > len(buf):
        raise ValueError("short")
    first, second = struct.unpack(e + "II", buf[at:at + 8])
    if first >> 16:  # small data element: 2-byte count, 2-byte type, 4 bytes of data
        return first & 0xFFFF, buf[at + 4:at + 4 + (first >> 16)], at + 8
    end = at + 8 + second
    return first, buf[at + 8:end], at + 8 + ((second + 7) // 8) * 8


def _var_name(payload: bytes, e: str) -> str:
    """The name of a matrix element from its first bytes, or ``?``."""
    try:
        _, _, at = _subelement(payload, 0, e)
        _, _, at = _subelement(payload, at, e)
        _, raw, _ = _subelement(payload, at, e)
        return raw.decode("ascii", "replace")[:64] or "?"
    except (ValueError, struct.error):
        return "?"


def _check_class(path: Path, payload: bytes, e: str) -> None:
    """Name and class of a top-level matrix from its first bytes; reject non-data classes."""
    try:
        _, flags, at = _subelement(payload, 0, e)
        cls = struct.unpack(e + "I", flags[:4])[0] & 0xFF
        _, _, at = _subelement(payload, at, e)  # dims
        _, raw, _ = _subelement(payload, at, e)
        name = raw.decode("ascii", "replace")
    except (ValueError, struct.error):
        raise FormatError(f"{path}: corrupt matrix header") from None
    if cls in _REJECTED_CLASSES:
        raise FormatError(f"{path}: variable {name}: is {_REJECTED_CLASSES[cls]}; MATLAB objects, function "
                          f"handles and opaque classes are not accepted")
    if cls not in _CLASS_NAMES:
        raise FormatError(f"{path}: variable {name}: unknown MATLAB class {cls}")
    if cls == 5:
        raise FormatError(f"{path}: variable {name}: sparse arrays are not accepted")


# ------------------------------------------------------------------------------ normalize
def _plain(v, where: str, depth: int = 0):
    """scipy loadmat values -> str | ndarray (numeric) | object ndarray (cell) | dict (struct)."""
    from scipy.io.matlab import MatlabFunction, MatlabObject, MatlabOpaque, mat_struct

    if depth > 8:
        raise FormatError(f"variable {where}: nested too deeply")
    if isinstance(v, (MatlabObject, MatlabFunction, MatlabOpaque)):
        raise FormatError(f"variable {where}: MATLAB objects, function handles and opaque classes are not accepted")
    if isinstance(v, mat_struct):
        return {k: _plain(getattr(v, k), f"{where}.{k}", depth + 1) for k in v._fieldnames}
    if not isinstance(v, np.ndarray):
        raise FormatError(f"variable {where}: unsupported MATLAB value ({type(v).__name__})")
    if v.dtype.kind in "US":
        if v.size <= 1:
            return str(v.reshape(-1)[0]) if v.size else ""
        return [str(x) for x in v.reshape(-1)]
    if v.dtype == object:
        if v.size == 1 and isinstance(v.reshape(-1)[0], mat_struct):
            return _plain(v.reshape(-1)[0], where, depth)
        if any(isinstance(x, mat_struct) for x in v.flat):
            raise FormatError(f"variable {where}: struct arrays are not accepted (use a cell of structs)")
        out = np.empty(v.shape, dtype=object)
        for idx in np.ndindex(*v.shape):
            out[idx] = _plain(v[idx], f"{where}{{{','.join(str(i + 1) for i in idx)}}}", depth + 1)
        return out
    if v.dtype.kind not in "iufb" or v.dtype.names:
        raise FormatError(f"variable {where}: MATLAB class with dtype {v.dtype} is not accepted")
    return v


def read_variables(path: str | Path, max_bytes: int = MAX_MAT_BYTES) -> tuple[dict, str]:
    """The known top-level variables of an xnn .mat file as plain values, and the MAT version."""
    p = Path(path)
    if not p.is_file():
        raise FormatError(f"{p}: no such .mat file")
    if p.stat().st_size > max_bytes:
        raise FormatError(f"{p}: file larger than the limit of {max_bytes} bytes")
    with open(p, "rb") as f:
        head = f.read(128)
    version = mat_version(p, head)
    if version == "7.3":
        from .hdf5 import read_v73

        return read_v73(p, KNOWN, max_bytes), version
    scan_v5(p, max_bytes)
    from scipy.io import loadmat, whosmat

    try:
        present = [name for name, _, _ in whosmat(str(p))]
    except Exception as e:  # scipy raises many types on damaged files; never let one escape
        raise FormatError(f"{p}: not a readable MAT v7 file ({type(e).__name__}: {str(e)[:120]})") from None
    out = {}
    for k in KNOWN:
        if k not in present:
            continue
        try:  # one variable at a time, so an error names its variable
            raw = loadmat(str(p), variable_names=[k], squeeze_me=False, struct_as_record=False,
                          chars_as_strings=True, mat_dtype=False, verify_compressed_data_integrity=True)
        except Exception as e:
            raise FormatError(f"{p}: variable {k}: unreadable ({type(e).__name__}: {str(e)[:120]})") from None
        if k not in raw:
            raise FormatError(f"{p}: variable {k}: listed in the file but unreadable")
        try:
            out[k] = _plain(raw[k], k)
        except FormatError as e:
            raise FormatError(f"{p}: {e.messages[0]}") from None
    return out, version


# ------------------------------------------------------------------------------ decode
def _text(vars_: dict, k: str, p: Path) -> str:
    v = vars_.get(k)
    if not isinstance(v, str):
        raise FormatError(f"{p}: variable {k}: missing or not a char row")
    return v


def _int_scalar(v, where: str, p: Path) -> int:
    a = np.asarray(v) if isinstance(v, np.ndarray) else None
    if a is None or a.size != 1 or a.dtype.kind not in "iuf" or not np.isfinite(a).all() or float(a.flat[0]) % 1:
        raise FormatError(f"{p}: variable {where}: must be an integer scalar")
    return int(a.flat[0])


def import_mat(path: str | Path, *, max_bytes: int = MAX_MAT_BYTES) -> tuple[dict, dict[str, np.ndarray]]:
    """Read an xnn .mat (v7 or v7.3) -> ``(spec_dict, params)``.

    ``params`` are canonical ``<node>.<param>`` arrays (ONNX/PyTorch layout) in the spec's dtype,
    converted exactly from the MATLAB layouts (so weights changed in MATLAB/Octave come back).
    Raises FormatError naming the file and variable on any damaged, hostile or mismatched input.
    """
    spec_dict, params, _ = import_mat_full(path, max_bytes=max_bytes)
    return spec_dict, params


def import_mat_full(path: str | Path, *, max_bytes: int = MAX_MAT_BYTES) -> tuple[dict, dict[str, np.ndarray], dict]:
    """:func:`import_mat` plus ``info``: ``info["preprocess"]`` is the file's ``preprocess`` struct
    in the manifest's form (:meth:`xnn.data.Preprocess.to_dict`), checked against the spec (methods,
    one finite shift/scale per channel), or None for a file without it (older files, or exported
    from a spec rather than a run)."""
    from ...spec import from_dict

    p = Path(path)
    v, _ = read_variables(p, max_bytes)
    if "xnn_format" not in v:
        raise FormatError(f"{p}: variable xnn_format: missing (not an xnn .mat file)")
    fmt = _int_scalar(v["xnn_format"], "xnn_format", p)
    if fmt != FORMAT_VERSION:
        raise FormatError(f"{p}: variable xnn_format: format {fmt} is not supported (this xnn reads {FORMAT_VERSION})")
    spec_dict = loads_json(_text(v, "spec_json", p), f"{p}: variable spec_json")
    try:
        spec = from_dict(spec_dict)
    except SpecError as e:
        raise FormatError([f"{p}: variable spec_json: {m}" for m in e.messages]) from None
    except Exception as e:
        raise FormatError(f"{p}: variable spec_json: not a valid spec ({type(e).__name__})") from None
    unknown = layouts.unmapped(spec)
    if unknown:
        raise FormatError(f"{p}: variable spec_json: no .mat mapping for layer kind(s) {unknown}")
    ctx = layouts.build_context(spec)
    cells = v.get("layers")
    if not isinstance(cells, np.ndarray) or cells.dtype != object:
        raise FormatError(f"{p}: variable layers: missing or not a cell array")
    if cells.size != len(spec.nodes):
        raise FormatError(f"{p}: variable layers: {cells.size} entries, the spec has {len(spec.nodes)} nodes")
    dtype = spec.train.dtype
    params: dict[str, np.ndarray] = {}
    errors: list[str] = []
    for i, (node, rec) in enumerate(zip(spec.nodes, cells.reshape(-1, order="F"))):
        where = f"layers{{{i + 1}}}"
        if not isinstance(rec, dict):
            errors.append(f"{p}: variable {where}: not a struct")
            continue
        if rec.get("name") != node.name or rec.get("type") != node.kind:
            errors.append(f"{p}: variable {where}: is {rec.get('type')!r} {rec.get('name')!r}, "
                          f"the spec has {node.kind!r} {node.name!r}")
            continue
        w = rec.get("weights", {})
        if isinstance(w, np.ndarray) and w.size == 0:
            w = {}  # an empty struct may come back as an empty array
        if not isinstance(w, dict):
            errors.append(f"{p}: variable {where}.weights: not a struct")
            continue
        want = layouts.expected_mat_shapes(node, ctx)
        if set(w) != set(want):
            errors.append(f"{p}: variable {where}.weights: fields {sorted(w)}, expected {sorted(want)}")
            continue
        arrays = {}
        for k, shape in want.items():
            a = w[k]
            wk = f"{where}.weights.{k}"
            if not isinstance(a, np.ndarray) or a.dtype.kind not in "iuf":
                errors.append(f"{p}: variable {wk}: not a real numeric array")
            elif layouts.strip_trailing_ones(a.shape) != layouts.strip_trailing_ones(shape):
                errors.append(f"{p}: variable {wk}: shape {list(a.shape)} does not match the spec's {list(shape)}")
            elif not np.all(np.isfinite(a)):
                errors.append(f"{p}: variable {wk}: contains NaN or Inf")
            else:
                arrays[k] = a.reshape(shape)  # only trailing singleton dims can differ
        if len(arrays) != len(want):
            continue
        canon = layouts.layout(node).from_mat(node, arrays, ctx)
        for k, a in canon.items():
            params[f"{node.name}.{k}"] = np.ascontiguousarray(a.reshape(node.params[k].shape)).astype(dtype)
    info = {"preprocess": None}
    if "preprocess" in v:
        from .preprocess import from_mat

        try:
            info["preprocess"] = from_mat(v["preprocess"], spec, p)
        except FormatError as e:
            errors.extend(e.messages)
    if errors:
        raise FormatError(errors)
    return spec.raw, params, info
