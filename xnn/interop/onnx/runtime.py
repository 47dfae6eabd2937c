"""Run an exported model in ONNX Runtime (CPU), as written (graph optimizations off)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def run_onnx(model_or_path, x: np.ndarray) -> np.ndarray:
    """Output of the model's first output for input batch ``x`` (floats cast to float32)."""
    import onnxruntime as ort

    src = model_or_path.SerializeToString() if hasattr(model_or_path, "SerializeToString") else str(model_or_path)
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])
    xin = x.astype(np.float32) if np.issubdtype(x.dtype, np.floating) else x
    return sess.run(None, {sess.get_inputs()[0].name: xin})[0]


def export_and_run(spec, params, x: np.ndarray, path: str | Path) -> np.ndarray:
    """Export ``spec`` with ``params`` to ``path`` (float32) and run it on ``x``."""
    from .export import export_onnx

    export_onnx(spec, params, path)
    return run_onnx(path, x)
