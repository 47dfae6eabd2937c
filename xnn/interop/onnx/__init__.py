"""ONNX export (written directly from the IR) and import (into a spec + canonical weights).

- :func:`export_onnx` ``(spec, params, path, opset=None, dtype="float32") -> Path``
- :func:`export_via` ``(spec, params, path, via="torch"|"keras", opset=None) -> Path``: through
  the framework's own exporter, for comparison (imports that framework).
- :func:`import_onnx` ``(path) -> (spec_dict, params)``
- :func:`default_opset`, :data:`MIN_OPSET`, :func:`max_opset`

Only ``onnx`` (and ``numpy``) are imported here; torch/tensorflow only inside ``export_via``.
"""
from __future__ import annotations

from .export import MIN_OPSET, build_model, default_opset, export_onnx, max_opset
from .importer import import_onnx, load_onnx  # noqa: F401
from .runtime import export_and_run, run_onnx
from .via import export_via

__all__ = ["MIN_OPSET", "build_model", "default_opset", "export_onnx", "export_via", "import_onnx",
           "load_onnx", "max_opset", "run_onnx", "export_and_run"]
