"""Safe loading of untrusted ONNX files: size bounds, external data kept inside its folder,
clear FormatErrors (naming the file) for truncated, empty or corrupt files, never a crash.
"""
from __future__ import annotations

import os
from pathlib import Path

from ...errors import FormatError

MAX_ONNX_BYTES = 2 * 2**30  # protobuf's own limit for one message
MAX_EXTERNAL_BYTES = 8 * 2**30


def _tensors(graph):
    """Every TensorProto in a graph: initializers, Constant attributes, subgraphs."""
    yield from graph.initializer
    for node in graph.node:
        for a in node.attribute:
            if a.HasField("t"):
                yield a.t
            yield from a.tensors
            if a.HasField("g"):
                yield from _tensors(a.g)
            for sg in a.graphs:
                yield from _tensors(sg)


def load_onnx(path: str | Path):
    """Parse ``path`` into an ``onnx.ModelProto`` and check it (``onnx.checker``).

    External data must be a relative path inside the model's folder, in range of its file, and
    no more than MAX_EXTERNAL_BYTES in all. Raises FormatError naming the file.
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
        raise FormatError(f"{p}: not a readable ONNX file (truncated or corrupt: {_first(e)})") from None
    if not model.HasField("graph") or not model.opset_import:
        raise FormatError(f"{p}: not an ONNX model (no graph or no opset_import; truncated or another format)")
    base = p.parent.resolve()
    total = 0
    errors = []
    for t in _tensors(model.graph):
        if t.data_location != TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in t.external_data}
        loc = info.get("location", "")
        target = (base / loc).resolve() if loc else None
        if not loc or os.path.isabs(loc) or target is None or not target.is_relative_to(base):
            errors.append(f"tensor {t.name!r}: external data location {loc!r} is outside the model's folder")
            continue
        if not target.is_file():
            errors.append(f"tensor {t.name!r}: external data file {loc!r} does not exist")
            continue
        try:
            off, length = int(info.get("offset", 0)), int(info.get("length", target.stat().st_size))
        except ValueError:
            errors.append(f"tensor {t.name!r}: bad external data offset/length")
            continue
        if off < 0 or length < 0 or off + length > target.stat().st_size:
            errors.append(f"tensor {t.name!r}: external data range {off}+{length} lies beyond {loc!r}")
            continue
        total += length
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


def _first(e: Exception) -> str:
    s = str(e).strip().splitlines()
    return (s[0] if s else type(e).__name__)[:200]
