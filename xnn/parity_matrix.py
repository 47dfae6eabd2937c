"""The layer x path parity matrix: every registered layer case and every example, through every
path, in one pass (one Octave process for all), rendered as docs/parity.md.

    python -m xnn.parity_matrix docs/parity.md      # regenerate the page

Rows are ``<Layer>-<case>`` and ``example:<name>``; each cell is the measured max abs error
against the NumPy float64 reference over the tolerance for that path (float64 for torch, Keras
and Octave; float32 for ONNX Runtime). The page's structure and pass/fail marks are checked
by a test, so the page cannot go stale.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .parity import FLOAT32_ONLY, TOL

MATRIX_PATHS = ("torch", "keras", "onnx", "octave")
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Cell:
    max_abs: float
    tol: float
    ok: bool


def items(examples_dir: Path | None = None) -> list[tuple[str, object, dict, np.ndarray]]:
    """(row id, spec, params, input batch) for every layer case and example spec."""
    from .cases import all_cases, case_input, case_spec
    from .init import init_params
    from .parity import seeded_input
    from .spec import load_spec

    out = []
    for kind, case, cid in all_cases():
        spec = case_spec(kind, case, "float64")
        out.append((cid, spec, init_params(spec, seed=1), case_input(spec, case)))
    ex = examples_dir or ROOT / "examples"
    for p in sorted(ex.glob("*.yaml")):
        spec = load_spec(p, ["train.dtype=float64"])
        out.append((f"example:{p.stem}", spec, init_params(spec), seeded_input(spec, 4, 0)))
    return out


def _octave_batch(jobs: list[tuple[str, object, dict, np.ndarray]], tmp: Path) -> dict[str, np.ndarray]:
    """Run matlab/+xnn's xnn.predict on every job in ONE octave-cli process."""
    from scipy.io import loadmat

    from .interop.mat import export_mat
    from .interop.mat.layouts import from_dlarray_order

    octave = shutil.which("octave-cli")
    if octave is None:
        return {}
    lines = []
    for i, (rid, spec, params, x) in enumerate(jobs):
        f = tmp / f"m{i}.mat"
        export_mat(spec, params, f, ref_input=x)
        lines.append(f"{f}\t{tmp / f'y{i}.mat'}")
    manifest = tmp / "manifest.tsv"
    manifest.write_text("\n".join(lines) + "\n")
    script = tmp / "run_all.m"
    script.write_text(
        "warning('off', 'all');\n"
        f"addpath('{ROOT / 'matlab'}');\n"
        f"fid = fopen('{manifest}', 'r');\n"
        "while true\n  line = fgetl(fid);\n  if ~ischar(line), break; end\n"
        "  parts = strsplit(line, sprintf('\\t'));\n"
        "  try\n    m = xnn.load(parts{1});\n    y = xnn.predict(m, m.ref_input);\n"
        "    fmt = m.ref_output_format;\n    save('-v7', parts{2}, 'y', 'fmt');\n"
        "  catch err\n    fprintf('XNNERROR\\t%s\\t%s\\n', parts{1}, err.message);\n  end\nend\nfclose(fid);\n")
    subprocess.run([octave, "--no-gui", "--quiet", "--no-window-system", str(script)],
                   capture_output=True, text=True, timeout=1800, cwd=tmp)
    outs = {}
    for i, (rid, spec, params, x) in enumerate(jobs):
        f = tmp / f"y{i}.mat"
        if not f.exists():
            continue
        r = loadmat(f)
        fmt = str(r["fmt"][0]) if r["fmt"].size else "CB"
        y = np.asarray(r["y"], dtype=np.float64)
        want = 1 + len(spec.output.out_shape)
        if y.ndim < want:
            y = y.reshape(y.shape + (1,) * (want - y.ndim))
        outs[rid] = from_dlarray_order(y, fmt)
    return outs


def compute(paths=MATRIX_PATHS, examples_dir: Path | None = None, progress: bool = False) -> dict[str, dict[str, Cell]]:
    """Row id -> path -> Cell, for every layer case and example."""
    from .backends import get
    from .interop.onnx import export_and_run
    from .reference import forward

    jobs = items(examples_dir)
    rows: dict[str, dict[str, Cell]] = {}
    with tempfile.TemporaryDirectory(prefix="xnn-matrix-") as tmp:
        tmp = Path(tmp)
        octave = _octave_batch(jobs, tmp) if "octave" in paths else {}
        for i, (rid, spec, params, x) in enumerate(jobs):
            if progress:
                print(f"[{i + 1}/{len(jobs)}] {rid}", file=sys.stderr)
            ref = forward(spec, params, x, dtype="float64")
            scale = max(1.0, float(np.max(np.abs(ref))) if ref.size else 1.0)
            row = {}
            for p in paths:
                dt = "float32" if p in FLOAT32_ONLY else "float64"
                rtol, atol = TOL[dt]
                try:
                    if p in ("torch", "keras"):
                        be = get(p)
                        y = be.predict(be.build(spec, params, dtype="float64"), x)
                    elif p == "onnx":
                        y = export_and_run(spec, params, x, tmp / f"m{i}.onnx")
                    else:
                        y = octave.get(rid)
                        if y is None:
                            raise RuntimeError("octave produced no output")
                    y = np.asarray(y, dtype=np.float64)
                    d = np.abs(y - ref)
                    ok = bool(np.all(d <= atol * scale + rtol * np.abs(ref)))
                    row[p] = Cell(float(d.max()) if d.size else 0.0, atol * scale, ok)
                except Exception:  # an unsupported path is a failing cell, reported, not a crash
                    row[p] = Cell(float("nan"), atol * scale, False)
            rows[rid] = row
    return rows


def render(rows: dict[str, dict[str, Cell]], paths=MATRIX_PATHS) -> str:
    """The markdown page (structure and marks are what the staleness test checks)."""
    head = ["# Parity matrix", "",
            "Generated by `python -m xnn.parity_matrix docs/parity.md`; do not edit by hand. A test",
            "recomputes it and fails when its rows, columns or pass/fail marks differ from this page.", "",
            "Each cell: measured max abs error against the NumPy float64 reference / the fixed",
            "tolerance for that path (atol × output scale; float64 for torch, Keras and Octave, float32",
            "for ONNX Runtime, which lacks float64 kernels). ✅ within tolerance, ❌ not.", "",
            "| case | " + " | ".join(paths) + " |", "|---|" + "---|" * len(paths)]
    body = []
    for rid, row in rows.items():
        cells = []
        for p in paths:
            c = row[p]
            mark = "✅" if c.ok else "❌"
            cells.append(f"{mark} {c.max_abs:.1e} / {c.tol:.0e}")
        body.append(f"| {rid} | " + " | ".join(cells) + " |")
    n_ok = sum(all(c.ok for c in r.values()) for r in rows.values())
    tail = ["", f"{n_ok} of {len(rows)} rows agree on every path."]
    return "\n".join(head + body + tail) + "\n"


def parse_marks(text: str) -> dict[str, list[str]]:
    """Row id -> list of ✅/❌ marks, from a rendered page."""
    out = {}
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| case"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            out[cells[0]] = [c.split()[0] for c in cells[1:]]
    return out


def main(argv: list[str] | None = None) -> int:
    from .fileio import write_text

    import argparse

    ap = argparse.ArgumentParser(prog="python -m xnn.parity_matrix",
                                 description="Regenerate the layer x path parity matrix (every registry case and "
                                             "example on torch, keras, onnx and octave; minutes).")
    ap.add_argument("out", nargs="?", default=str(ROOT / "docs" / "parity.md"),
                    help="the Markdown file to write (default: docs/parity.md)")
    out = Path(ap.parse_args(sys.argv[1:] if argv is None else argv).out)
    rows = compute(progress=True)
    write_text(out, render(rows))
    bad = [r for r, row in rows.items() if not all(c.ok for c in row.values())]
    print(f"wrote {out}: {len(rows)} rows, {len(bad)} with a failing path", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
