"""The one framework-neutral weights file: safetensors, tensors named ``<node>.<param>``,
canonical (ONNX/PyTorch) layout. Never pickle.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .errors import FormatError
from .fileio import atomic_path


def save_weights(path: str | Path, params: dict[str, np.ndarray], metadata: dict[str, str] | None = None) -> None:
    """Write params atomically as safetensors."""
    from safetensors.numpy import save

    arrays = {k: np.ascontiguousarray(v) for k, v in params.items()}
    blob = save(arrays, metadata={k: str(v) for k, v in (metadata or {}).items()})
    with atomic_path(path) as tmp:  # plain file writes: a full disk is an OSError, reported by atomic_path
        tmp.write_bytes(blob)


def load_weights(path: str | Path, spec=None, dtype: str | None = None) -> dict[str, np.ndarray]:
    """Read a safetensors file; with ``spec``, check names and shapes against it.

    Raises FormatError naming the file and the offending tensor.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    from .limits import limit

    p = Path(path)
    if p.is_symlink():
        raise FormatError(f"{p}: is a symbolic link; xnn reads weights only from regular files inside the run")
    if not p.is_file():
        what = "is not a regular file" if p.exists() else "no such weights file"
        raise FormatError(f"{p}: {what}")
    max_bytes = limit("MAX_MODEL_BYTES")
    if p.stat().st_size > max_bytes:
        raise FormatError(f"{p}: larger than {max_bytes} bytes (XNN_LIMIT_MAX_MODEL_BYTES)")
    try:
        params = load_file(str(p))
    except (SafetensorError, OSError, ValueError, Exception) as e:  # safetensors raises several types
        raise FormatError(f"{p}: not a readable safetensors file ({str(e).splitlines()[0][:120]})") from None
    if spec is not None:
        upgrade_params(params, spec, source=str(p))
        check_params(params, spec, source=str(p))
    if dtype:
        params = {k: v.astype(dtype) for k, v in params.items()}
    return params


def upgrade_params(params: dict[str, np.ndarray], spec, source: str = "weights") -> None:
    """Weights in an older canonical layout read into today's, in place, with a warning per
    change (the same function): LSTM's single ``bias_l*`` (``xnn/layers/lstm.py``)."""
    import warnings

    from .layers.lstm import upgrade_params as lstm_upgrade

    for note in lstm_upgrade(params, spec):
        warnings.warn(f"{source}: {note}", stacklevel=3)


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
            legacy = ".bias_l" in k and k.replace(".bias_l", ".bias_ih_l") in want
            errors.append(f"{k}: not a parameter of this spec" + (
                " (an LSTM bias of xnn's single-bias layout: xnn.load_weights(path, spec) and run folders "
                "read it as bias_ih with bias_hh = 0; a checkpoint in that layout cannot be resumed)" if legacy else ""))
    if errors:
        raise FormatError(errors, source=source)
