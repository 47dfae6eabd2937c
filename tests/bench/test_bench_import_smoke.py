"""Smoke test of bench/bench_import.py: runs with --quick, exits 0 (the imported ResNet-50 agrees
with the torch module), prints its ratios and writes its figures with --json. No timing
thresholds: only that the ratios were measured."""
from __future__ import annotations

import json
import math

import pytest

from .test_bench_smoke import RATIO, run_bench


@pytest.mark.slow
def test_bench_import_quick(tmp_path):
    for mod in ("torch", "onnx", "onnxscript"):
        pytest.importorskip(mod)
    out = run_bench("bench_import.py", tmp_path / "import.json")
    assert "xnn.from_torch" in out and "torch.onnx.export(dynamo=True)" in out and "xnn import_onnx" in out
    fig = json.loads((tmp_path / "import.json").read_text())
    a, b = fig["from_torch"], fig["onnx_import"]
    assert a["agrees"] is True and a["params"] > 25_000_000
    assert math.isfinite(a["ratio_dynamo_over_xnn"]) and a["ratio_dynamo_over_xnn"] > 0
    if "onnx2torch_convert_s" in b:
        assert math.isfinite(b["ratio_onnx2torch_over_xnn"]) and b["ratio_onnx2torch_over_xnn"] > 0
    assert len(RATIO.findall(out)) >= 1 + ("onnx2torch_convert_s" in b)
