"""Export through a framework's own ONNX exporter (for comparison with xnn's direct export).

``torch``: ``torch.onnx.export`` of the compiled ``XnnModule`` (channels-last input, dynamic
batch). ``keras``: ``keras.Model.export(path, format="onnx")``. Both take the same
``(N, *input.shape)`` channels-last batch as xnn's own export, so outputs can be compared.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

from ...errors import FormatError

VIAS = ("torch", "keras")


def export_via(spec, params: dict[str, np.ndarray], path: str | Path, via: str, opset: int | None = None) -> Path:
    """Write ``path`` with ``via``'s exporter (imports that framework); returns the path."""
    from ...fileio import atomic_path

    if via not in VIAS:
        raise FormatError(f"--via must be one of {list(VIAS)} (received {via!r})")
    if opset is not None:
        from .export import check_opset

        check_opset(int(opset))  # refused before the framework is imported
        if via == "torch":
            hi = _torch_max_opset()
            if hi is not None and opset > hi:
                raise FormatError(f"opset {opset}: torch's TorchScript ONNX exporter writes opsets up to {hi}")
    path = Path(path)
    with atomic_path(path) as tmp:
        if via == "torch":
            _via_torch(spec, params, tmp, opset)
        else:
            _via_keras(spec, params, tmp, opset)
    return path


def _torch_max_opset() -> int | None:
    """The newest opset torch's TorchScript exporter writes (a private constant; None when absent)."""
    try:
        from torch.onnx import _constants
    except Exception:
        return None
    v = getattr(_constants, "ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET", None)
    return int(v) if isinstance(v, int) else None


def _via_torch(spec, params, out: Path, opset: int | None) -> None:
    import torch

    from ...backends import get

    model = get("torch").build(spec, params, dtype="float32")
    model.eval()
    in_dtype = torch.int64 if spec.input.dtype.startswith("int") else torch.float32
    x = torch.zeros((2, *spec.input_shape), dtype=in_dtype)
    kw = {"opset_version": opset} if opset else {}
    # the legacy TorchScript exporter keeps the whole graph in one file and supports dynamic_axes
    torch.onnx.export(model, (x,), str(out), input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}}, dynamo=False, **kw)


def _via_keras(spec, params, out: Path, opset: int | None) -> None:
    from ...backends import get

    import numpy as onp

    model = get("keras").build(spec, params, dtype="float32")
    in_dtype = "int64" if spec.input.dtype.startswith("int") else "float32"
    model(onp.zeros((1, *spec.input_shape), dtype=in_dtype))  # Keras exports only models that were called
    try:
        import tf2onnx  # noqa: F401  (Keras's ONNX export on TensorFlow runs through tf2onnx)
    except ImportError:
        raise FormatError("--via keras needs the tf2onnx package (pip install tf2onnx)") from None
    with tempfile.TemporaryDirectory(dir=out.parent) as d:
        target = Path(d) / "model.onnx"
        kw = {"opset_version": opset} if opset else {}
        try:
            model.export(str(target), format="onnx", verbose=False, **kw)
        except TypeError:  # older Keras without opset_version / verbose
            model.export(str(target), format="onnx")
        os.replace(target, out)
