"""`xnn parity` across the five paths, its exit codes, and the generated docs/parity.md."""
import json
import shutil
from pathlib import Path

import pytest

from xnn.cli import main

ROOT = Path(__file__).resolve().parents[2]
HAS_OCTAVE = shutil.which("octave-cli") is not None


def test_parity_five_paths_on_the_default_example(capsys):
    paths = "torch,keras,numpy,onnx" + (",octave" if HAS_OCTAVE else "")
    rc = main(["parity", str(ROOT / "examples" / "digits_cnn.yaml"), "--backends", paths, "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0, out
    assert out["ok"] is True
    got = {p["path"] for p in out["paths"]}
    assert got == set(paths.split(",")) - {"numpy"}
    onnx = next(p for p in out["paths"] if p["path"] == "onnx")
    assert onnx["dtype"] == "float32" and "no float64 kernels" in onnx["note"]
    n = len(got)
    assert len(out["pairs"]) == n * (n - 1) // 2


def test_parity_of_a_trained_run(tmp_path, capsys):
    from xnn.train import fit

    run = tmp_path / "run"
    fit(str(ROOT / "examples" / "iris_mlp.yaml"), backend="keras", out=run, progress=False)
    rc = main(["parity", str(run), "--backends", "torch,keras,onnx", "--dtype", "float32"])
    assert rc == 0, capsys.readouterr().out
    assert "all paths agree" in capsys.readouterr().out


def test_out_of_tolerance_exits_1(monkeypatch, capsys):
    import xnn.parity as P

    # zero tolerance: torch and Keras differ in the last bits, so the comparison must fail
    monkeypatch.setattr(P, "TOL", {"float64": (0.0, 0.0), "float32": (0.0, 0.0)})
    rc = main(["parity", str(ROOT / "examples" / "digits_cnn.yaml"), "--backends", "torch,keras", "--dtype", "float32"])
    assert rc == 1
    assert "PARITY FAILED" in capsys.readouterr().out


def test_bad_input_exits_2(tmp_path, capsys):
    assert main(["parity", str(tmp_path / "missing.yaml")]) == 2
    assert main(["parity", str(ROOT / "examples" / "digits_cnn.yaml"), "--backends", "torch,caffe"]) == 2
    err = capsys.readouterr().err
    assert "missing.yaml: no such file" in err and "caffe" in err


@pytest.mark.timeout(1800)
def test_docs_parity_md_is_current():
    """Recompute the layer x path matrix for every registered case and example on all paths;
    the committed page must have the same rows, columns and pass/fail marks."""
    from xnn.parity_matrix import MATRIX_PATHS, compute, parse_marks, render

    paths = MATRIX_PATHS if HAS_OCTAVE else tuple(p for p in MATRIX_PATHS if p != "octave")
    if not HAS_OCTAVE:
        pytest.skip("GNU Octave is not installed: the octave column cannot be recomputed")
    rows = compute(paths)
    fresh = parse_marks(render(rows, paths))
    page = parse_marks((ROOT / "docs" / "parity.md").read_text())
    assert list(page) == list(fresh), "docs/parity.md rows are stale: run python -m xnn.parity_matrix"
    stale = {r: (page[r], fresh[r]) for r in fresh if page[r] != fresh[r]}
    assert not stale, f"docs/parity.md pass/fail marks are stale: {stale}"
    failing = {r: {p: c.max_abs for p, c in row.items() if not c.ok} for r, row in rows.items()
               if not all(c.ok for c in row.values())}
    assert not failing, f"paths out of tolerance: {failing}"
