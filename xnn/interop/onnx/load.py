"""Safe loading of untrusted ONNX files: size bounds, external data kept inside its folder,
clear FormatErrors (naming the file) for truncated, empty or corrupt files, never a crash.

Before anything is converted or evaluated, :func:`load_onnx` checks what the file *declares*:
the ai.onnx opset (:data:`MIN_IMPORT_OPSET` .. the installed onnx's newest), the number of
nodes and initializers in all graphs and local functions (``MAX_ONNX_NODES``), and every
tensor and value_info: rank (``MAX_ARRAY_DIMS``), no negative dims, declared bytes
(``MAX_ARRAY_BYTES``) and a stored data size that matches the dims. :func:`tensor_array` is
the one way the importer turns a TensorProto into an array. The limits are those of :mod:`xnn.limits`.
"""
from __future__ import annotations

import os
from pathlib import Path

from ...errors import FormatError
from ...limits import limit

MAX_ONNX_BYTES = 2 * 2**30  # protobuf's own limit for one message
MAX_EXTERNAL_BYTES = 8 * 2**30
MIN_IMPORT_OPSET = 7


def max_import_opset() -> int:
    """The newest ai.onnx opset the installed ``onnx`` package knows (its reference ops and checker)."""
    import onnx

    return int(onnx.defs.onnx_opset_version())


def max_onnx_nodes() -> int:
    return limit("MAX_ONNX_NODES")


# element types xnn converts (numeric, one element per storage item); others are refused
_NUMERIC = {1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2}


def _graphs(graph):
    """Every graph: ``graph`` and its subgraphs (If/Loop/Scan attributes), iteratively."""
    stack = [graph]
    while stack:
        g = stack.pop()
        yield g
        for node in g.node:
            for a in node.attribute:
                if a.HasField("g"):
                    stack.append(a.g)
                stack.extend(a.graphs)


def _tensors(graph):
    """Every TensorProto in a graph: initializers, Constant attributes, subgraphs."""
    for g in _graphs(graph):
        yield from g.initializer
        for node in g.node:
            for a in node.attribute:
                if a.HasField("t"):
                    yield a.t
                yield from a.tensors


def _tensor_problem(t, where: str) -> str | None:
    """Why TensorProto ``t`` cannot be converted safely (declared rank/dims/bytes, stored size), or None."""
    from onnx import TensorProto

    dims = list(t.dims)
    if len(dims) > limit("MAX_ARRAY_DIMS"):
        return f"{where}: rank {len(dims)} exceeds {limit('MAX_ARRAY_DIMS')} (XNN_LIMIT_MAX_ARRAY_DIMS)"
    if any(d < 0 for d in dims):
        return f"{where}: negative dimension in {dims}"
    if t.HasField("segment"):
        return f"{where}: segmented tensors are not supported"
    n = 1
    for d in dims:
        n *= d
    itemsize = _NUMERIC.get(t.data_type)
    if itemsize is None:
        if t.data_type == TensorProto.STRING:
            itemsize = 8
        else:
            return f"{where}: element type {_type_name(t.data_type)} is not supported"
    if n * itemsize > limit("MAX_ARRAY_BYTES"):
        return (f"{where}: declares {dims} ({n * itemsize} bytes), more than {limit('MAX_ARRAY_BYTES')} bytes "
                "(XNN_LIMIT_MAX_ARRAY_BYTES)")
    if t.data_location == TensorProto.EXTERNAL:
        return None  # its range is checked against the data file, its size after loading
    if t.HasField("raw_data"):
        if len(t.raw_data) != n * itemsize and t.data_type != TensorProto.STRING:
            return f"{where}: {len(t.raw_data)} bytes of data for dims {dims} ({n * itemsize} bytes)"
        return None
    from onnx import helper

    try:
        stored = len(getattr(t, helper.tensor_dtype_to_field(t.data_type)))
    except Exception:
        return f"{where}: element type {_type_name(t.data_type)} is not supported"
    if stored != n:
        return f"{where}: {stored} stored values for dims {dims} ({n} elements)"
    return None


def _type_name(dt: int) -> str:
    from onnx import TensorProto

    try:
        return TensorProto.DataType.Name(dt)
    except ValueError:
        return str(dt)


def tensor_array(t, source: str, where: str | None = None):
    """``numpy_helper.to_array(t)`` after :func:`_tensor_problem` (one FormatError line naming ``source``)."""
    from onnx import numpy_helper

    where = where or f"tensor {t.name!r}"
    why = _tensor_problem(t, where)
    if why:
        raise FormatError(why, source=source)
    try:
        return numpy_helper.to_array(t)
    except Exception as e:
        raise FormatError(f"{where}: cannot be read ({_first(e)})", source=source) from None


def _value_info_problem(vi, where: str) -> str | None:
    """Declared rank, dims and bytes of a graph input/output/value_info."""
    if not vi.type.HasField("tensor_type") or not vi.type.tensor_type.HasField("shape"):
        return None
    dims = vi.type.tensor_type.shape.dim
    if len(dims) > limit("MAX_ARRAY_DIMS"):
        return f"{where} {vi.name!r}: rank {len(dims)} exceeds {limit('MAX_ARRAY_DIMS')} (XNN_LIMIT_MAX_ARRAY_DIMS)"
    n = 1
    for d in dims:
        if d.HasField("dim_value"):
            if d.dim_value < 0:
                return f"{where} {vi.name!r}: negative dimension {d.dim_value}"
            n *= d.dim_value
    itemsize = _NUMERIC.get(vi.type.tensor_type.elem_type, 8)
    if n * itemsize > limit("MAX_ARRAY_BYTES"):
        return (f"{where} {vi.name!r}: declares {n * itemsize} bytes, more than {limit('MAX_ARRAY_BYTES')} "
                "(XNN_LIMIT_MAX_ARRAY_BYTES)")
    return None


def _opset_problem(model) -> str | None:
    versions = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    hi = max_import_opset()
    if not versions:
        return f"declares no ai.onnx opset; xnn imports opsets {MIN_IMPORT_OPSET}..{hi}"
    if len(versions) > 1:
        return f"declares the ai.onnx opset {len(versions)} times ({versions})"
    v = versions[0]
    if not (MIN_IMPORT_OPSET <= v <= hi):
        return f"opset {v} is not supported; xnn imports ai.onnx opsets {MIN_IMPORT_OPSET}..{hi} (the installed onnx's newest is {hi})"
    return None


def _declared_problems(model) -> list[str]:
    """Everything the file declares that is out of bounds, before anything is converted."""
    problems: list[str] = []
    why = _opset_problem(model)
    if why:
        return [why]
    max_nodes = max_onnx_nodes()
    count = sum(len(f.node) for f in model.functions)
    for g in _graphs(model.graph):
        count += len(g.node) + len(g.initializer)
        if count > max_nodes:
            return [f"more than {max_nodes} nodes and initializers (XNN_LIMIT_MAX_ONNX_NODES)"]
        for kind, vis in (("input", g.input), ("output", g.output), ("value_info", g.value_info)):
            for vi in vis:
                why = _value_info_problem(vi, kind)
                if why:
                    problems.append(why)
        if g.sparse_initializer:
            problems.append(f"graph {g.name!r}: sparse initializers are not supported")
        if len(problems) > 20:
            break
    for t in _tensors(model.graph):
        why = _tensor_problem(t, f"tensor {t.name!r}")
        if why:
            problems.append(why)
        if len(problems) > 20:
            break
    return problems[:20]


def load_onnx(path: str | Path):
    """Parse ``path`` into an ``onnx.ModelProto`` and check it (``onnx.checker``).

    External data must be a relative path inside the model's folder, in range of its file, not
    overlapping another tensor's range, and no more than MAX_EXTERNAL_BYTES in all. Raises
    FormatError naming the file.
    """
    import onnx
    from onnx import TensorProto

    p = Path(path)
    if not p.is_file():
        raise FormatError(f"{p}: no such file")
    size = p.stat().st_size
    if size == 0:
        raise FormatError(f"{p}: empty file (0 bytes), not an ONNX model")
    if size > MAX_ONNX_BYTES:
        raise FormatError(f"{p}: {size} bytes, larger than the {MAX_ONNX_BYTES}-byte limit for an ONNX file")
    try:
        model = onnx.load(str(p), load_external_data=False)
    except Exception as e:  # protobuf's DecodeError and friends: the file is damaged
        raise FormatError(f"{p}: not a readable ONNX file (truncated, corrupt or nested too deeply: {_first(e)})") from None
    if not model.HasField("graph") or not model.opset_import:
        raise FormatError(f"{p}: not an ONNX model (no graph or no opset_import; truncated or another format)")
    problems = _declared_problems(model)
    if problems:
        raise FormatError(problems, source=str(p))
    base = p.parent.resolve()
    total = 0
    errors = []
    ranges: dict[Path, list[tuple[int, int, str]]] = {}
    for t in _tensors(model.graph):
        if t.data_location != TensorProto.EXTERNAL:
            continue
        why = _external_problem(t, base, ranges)
        if isinstance(why, str):
            errors.append(why)
        else:
            total += why
    for target, rs in ranges.items():
        rs.sort()
        for (o1, l1, n1), (o2, _l2, n2) in zip(rs, rs[1:]):
            if o1 + l1 > o2:
                errors.append(f"tensors {n1!r} and {n2!r}: overlapping external data ranges in {target.name!r}")
                break
    if total > MAX_EXTERNAL_BYTES:
        errors.append(f"external data of {total} bytes exceeds the {MAX_EXTERNAL_BYTES}-byte limit")
    if errors:
        raise FormatError(errors, source=str(p))
    try:
        if any(t.data_location == TensorProto.EXTERNAL for t in _tensors(model.graph)):
            from onnx.external_data_helper import load_external_data_for_model

            load_external_data_for_model(model, str(base))
        onnx.checker.check_model(model)
    except Exception as e:
        raise FormatError(f"{p}: invalid ONNX model ({_first(e)})") from None
    return model


def _external_problem(t, base: Path, ranges: dict) -> str | int:
    """Why tensor ``t``'s external data is refused, or its length in bytes (recorded in ``ranges``)."""
    info = {e.key: e.value for e in t.external_data}
    loc = info.get("location", "")
    shown = repr(loc)[:120]
    if not loc or "\0" in loc or os.path.isabs(loc):
        if "\0" in loc:
            return f"tensor {t.name!r}: external data location {shown} holds a NUL byte"
        return f"tensor {t.name!r}: external data location {shown} is outside the model's folder"
    try:
        target = (base / loc).resolve()
        if not target.is_relative_to(base):
            return f"tensor {t.name!r}: external data location {shown} is outside the model's folder"
        if not target.exists():
            return f"tensor {t.name!r}: external data file {shown} does not exist"
        if not target.is_file():
            return f"tensor {t.name!r}: external data {shown} is not a regular file"
        fsize = target.stat().st_size
    except (OSError, ValueError) as e:
        return f"tensor {t.name!r}: external data location {shown} cannot be used ({_first(e)})"
    try:
        off, length = int(info.get("offset", 0)), int(info.get("length", fsize - int(info.get("offset", 0))))
    except ValueError:
        return f"tensor {t.name!r}: bad external data offset/length"
    if off < 0 or length < 0 or off + length > fsize:
        return f"tensor {t.name!r}: external data range {off}+{length} lies beyond {shown}"
    itemsize = _NUMERIC.get(t.data_type, 1)
    n = 1
    for d in t.dims:
        n *= d
    if length != n * itemsize:
        return f"tensor {t.name!r}: {length} bytes of external data for dims {list(t.dims)} ({n * itemsize} bytes)"
    ranges.setdefault(target, []).append((off, length, t.name))
    return length


def _first(e: Exception) -> str:
    s = str(e).strip().splitlines()
    return (s[0] if s else type(e).__name__)[:200]
