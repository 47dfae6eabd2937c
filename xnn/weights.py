"""The one framework-neutral weights file: safetensors, tensors named ``<node>.<param>``,
canonical (ONNX/PyTorch) layout. Never pickle.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import FormatError
from .fileio import atomic_path

MAX_WEIGHTS_BYTES = 8 * 2**30


def save_weights(path: str | Path, params: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> None:
    """Write params atomically as safetensors."""
    from safetensors.numpy import save_file

    arrays = {k: np.ascontiguousarray(v) for k, v in params.items()}
    with atomic_path(path) as tmp:
        save_file(arrays, str(tmp), metadata={k: str(v) for k, v in (metadata or {}).items()})


def load_weights(path: str | Path, spec=None, dtype: str | None = None) -> dict[str, np.ndarray]:
    """Read a safetensors file; with ``spec``, check names and shapes against it.

    Raises FormatError naming the file and the offending tensor.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    p = Path(path)
    if not p.is_file():
        raise FormatError(f"{p}: no such weights file")
    if p.stat().st_size > MAX_WEIGHTS_BYTES:
        raise FormatError(f"{p}: larger than {MAX_WEIGHTS_BYTES} bytes")
    try:
        params = load_file(str(p))
    except (SafetensorError, OSError, ValueError, Exception) as e:  # safetensors raises several types
        raise FormatError(f"{p}: not a readable safetensors file ({str(e).splitlines()[0][:120]})") from None
    if spec is not None:
        check_params(params, spec, source=str(p))
    if dtype:
        params = {k: v.astype(dtype) for k, v in params.items()}
    return params


def check_params(params: dict[str, np.ndarray], spec, source: str = "weights") -> None:
    """Every spec parameter present with its canonical shape, nothing extra, all finite."""
    want = spec.param_shapes()
    errors = []
    for k, p in want.items():
        if k not in params:
            errors.append(f"{k}: missing (expected shape {list(p.shape)})")
        elif tuple(params[k].shape) != tuple(p.shape):
            errors.append(f"{k}: shape {list(params[k].shape)} does not match the spec's {list(p.shape)}")
        elif not np.all(np.isfinite(params[k])):
            errors.append(f"{k}: contains NaN or Inf")
    for k in params:
        if k not in want:
            errors.append(f"{k}: not a parameter of this spec")
    if errors:
        raise FormatError(errors, source=source)
