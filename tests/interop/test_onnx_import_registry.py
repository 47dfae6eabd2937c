"""The ONNX importer is a registry: the supported-op list is what the op-family modules register,
per opset, and docs/onnx.md's import table is generated from it."""
from __future__ import annotations

from pathlib import Path

from xnn.interop.onnx.importer.registry import TABLE_BEGIN, TABLE_END, handler, render_table, supported

ROOT = Path(__file__).resolve().parents[2]


def test_docs_onnx_md_import_table_is_current():
    text = (ROOT / "docs" / "onnx.md").read_text()
    i, j = text.index(TABLE_BEGIN), text.index(TABLE_END)
    assert text[i + len(TABLE_BEGIN):j].strip() == render_table().strip(), (
        "docs/onnx.md's import table is stale: run python -m xnn.interop.onnx.importer.registry")


def test_handlers_per_opset():
    assert "LayerNormalization" not in supported(16) and "LayerNormalization" in supported(17)
    assert "Gelu" not in supported(19) and "Gelu" in supported(20)
    assert handler("Softmax", 12).since == 7 and handler("Softmax", 13).since == 13
    assert handler("Pad", 10).since == 7 and handler("Pad", 11).since == 11
    assert handler("DepthToSpace", 20) is None and handler("LRN", 13) is not None
    assert {"Gemm", "MatMul", "Conv", "LSTM", "GRU", "ReduceSum"} <= supported(17)
