"""Smoke test of bench/bench_sequence.py: ``--quick`` exits 0, prints a ratio for every case and
writes them with ``--json``. No timing thresholds: only that the ratios were measured."""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CASES = {"torch_lstm", "torch_gru", "torch_lstm_masked", "keras_lstm", "keras_gru", "keras_lstm_masked",
         "torch_transformer", "torch_transformer_masked"}


def test_bench_sequence_quick(tmp_path: Path) -> None:
    for mod in ("torch", "tensorflow", "keras"):
        pytest.importorskip(mod)
    out = tmp_path / "sequence.json"
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_sequence.py"), "--quick", "--json", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"exited {proc.returncode}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    rows = {line.split()[0]: line.split() for line in proc.stdout.splitlines() if line.split()[:1] and
            line.split()[0] in CASES}
    assert set(rows) == CASES, f"missing table rows: {CASES - set(rows)}"
    for name, cells in rows.items():  # the last two cells are the wall and CPU-time ratios
        assert all(math.isfinite(float(c)) and float(c) > 0 for c in cells[-2:]), name
    fig = json.loads(out.read_text())
    assert set(fig["results"]) == CASES and fig["threads"] == 1
    for name, r in fig["results"].items():
        assert all(math.isfinite(r[k]) and r[k] > 0 for k in ("ratio", "cpu_ratio", "xnn_steps_s", "peer_steps_s")), name
