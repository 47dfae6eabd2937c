"""Smoke test of the interop benchmarks: each script runs with --quick, exits 0, prints its ratio
tables and writes its figures with --json. No timing thresholds: only that ratios were measured.
"""
from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RATIO = re.compile(r"\d+\.\d+x")  # a ratio cell, e.g. "98.2x"


def run_bench(script: str, out: Path) -> str:
    """Run bench/<script> --quick --json out from the repository root; returns stdout."""
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / script), "--quick", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{script} exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


def finite_positive(x: float) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


@pytest.mark.slow
def test_bench_onnx_quick(tmp_path: Path) -> None:
    for mod in ("torch", "onnxruntime", "onnxscript"):
        pytest.importorskip(mod)
    out = run_bench("bench_onnx.py", tmp_path / "onnx.json")
    assert "ONNX export" in out and "Inference" in out
    assert len(RATIO.findall(out)) >= 6  # 2 export + 4 inference ratios
    fig = json.loads((tmp_path / "onnx.json").read_text())
    assert fig["all_outputs_agree"] is True
    assert {r["model"] for r in fig["export"]} == {"digits_cnn", "digits_mlp"}
    assert sorted({r["batch"] for r in fig["inference"]}) == [1, 64]
    assert all(finite_positive(r["ratio"]) for r in fig["export"] + fig["inference"])


def test_bench_mat_quick(tmp_path: Path) -> None:
    out = run_bench("bench_mat.py", tmp_path / "mat.json")
    assert ".mat export" in out
    fig = json.loads((tmp_path / "mat.json").read_text())
    assert fig["all_ok"] is True
    assert [r["compress"] for r in fig["export"]] == [False, True]
    assert all(finite_positive(r["ratio"]) and r["file_bytes"] > 0 for r in fig["export"])
    if shutil.which("octave-cli"):
        o = fig["octave_predict"]
        assert o["outputs_agree"] is True and o["samples"] == 100 and finite_positive(o["ratio"])
    assert len(RATIO.findall(out)) >= (3 if shutil.which("octave-cli") else 2)
