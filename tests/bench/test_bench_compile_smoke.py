"""Smoke test of bench/bench_compile.py: ``--quick`` exits 0, prints every eager and XLA ratio at
both sizes and writes them with ``--json``. No timing thresholds: only that ratios were measured."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RATIOS = {"xnn keras / keras fit", "xnn keras / tf.function loop", "xnn keras XLA / tf.function XLA loop",
          "xnn keras XLA / xnn keras", "xnn torch / torch eager loop"}


def test_bench_compile_quick(tmp_path: Path) -> None:
    for mod in ("torch", "tensorflow", "keras"):
        pytest.importorskip(mod)
    out = tmp_path / "compile.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_compile.py"), "--quick", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    fig = json.loads(out.read_text())
    assert set(fig["models"]) == {"digits", "c32"}
    for name, m in fig["models"].items():
        assert set(m["ratios"]) == RATIOS, name
        for label, r in m["ratios"].items():
            assert all(math.isfinite(r[k]) and r[k] > 0 for k in ("e2e", "step")), (name, label)
            assert label in proc.stdout
