"""xnn report: real runs on both backends, one self-contained HTML file (checked in a real
headless browser when chromium is installed), Markdown with its pictures, the verdict rules and
the activation statistics on hand-made cases."""
from __future__ import annotations

import base64
import io
import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest

from xnn.report import analysis as A
from xnn.spec import from_dict
from xnn.train import fit

from .conftest import ROOT


def classifier(tb_dir, epochs: int = 4) -> dict:
    model = [{"type": "Dense", "units": 16, "name": "d1"}, {"type": "Activation", "fn": "relu", "name": "a1"},
             {"type": "Dense", "units": 8, "name": "d2"}, {"type": "Activation", "fn": "tanh", "name": "a2"},
             {"type": "Dense", "units": 3, "name": "out"}]
    return {"name": "clf", "input": {"shape": [4]}, "model": model,
            "train": {"epochs": epochs, "batch_size": 16, "dtype": "float64", "metrics": ["accuracy"],
                      "optimizer": {"type": "adam", "lr": 0.02}, "threads": 1, "tensorboard": str(tb_dir)},
            "data": {"source": "iris", "x": "standardize", "split": {"val": 0.2, "test": 0.2}}}


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """The same classifier trained on torch and on Keras (float64), with diagnostics."""
    root = tmp_path_factory.mktemp("report_runs")
    for b in ("torch", "keras"):
        fit(from_dict(classifier(root / f"tb_{b}")), backend=b, out=root / b, progress=False)
    return root


def _pngs(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', text)]


def test_html_report_of_two_backends_is_one_self_contained_file(cli, two_runs, tmp_path):
    out = tmp_path / "report.html"
    code, stdout, err = cli("report", two_runs / "torch", two_runs / "keras", "--out", out)
    assert code == 0, err
    assert stdout.strip() == f"report written to {out}" and sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
    text = out.read_text()
    # nothing to fetch: no scripts, no stylesheets or images by URL
    assert "<script" not in text and "<link" not in text and "url(" not in text
    assert not re.search(r'(src|href)="(?!data:)', text)
    pngs = _pngs(text)
    # curves (loss, accuracy, lr) + per run: confusion matrix and gradient norms
    assert len(pngs) == 3 + 2 * 2 and all(p[:8] == b"\x89PNG\r\n\x1a\n" and len(p) > 2000 for p in pngs)
    for label in ("torch (torch)", "keras (keras)"):
        assert text.count(label) >= 5
    for needle in ("Training curves", "confusion matrix", "precision", "recall", "setosa", "Gradient norms per layer",
                   "dead units", "saturated", "MACs", "(N, 16)", "d1", "fit</b>", "gradients</b>"):
        assert needle in text, needle
    assert text.count("used by torch (torch), keras (keras)") == 1  # one architecture, one summary
    # the torch and Keras runs computed the same thing: their per-class tables are identical
    tables = re.findall(r"<table><thead><tr><th[^>]*>class</th>.*?</table>", text, flags=re.S)
    assert len(tables) == 2 and tables[0] == tables[1]


def test_refuses_to_overwrite(cli, two_runs, tmp_path):
    out = tmp_path / "r.html"
    out.write_text("keep")
    code, _, err = cli("report", two_runs / "torch", "--out", out, "--no-eval")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "--force" in err and out.read_text() == "keep"
    code, _, err = cli("report", two_runs / "torch", "--out", two_runs / "torch" / "metrics.json", "--no-eval")
    assert code == 2 and "one of the run's own files" in err


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_html_report_renders_in_a_headless_browser(cli, two_runs, tmp_path):
    from PIL import Image

    out = tmp_path / "report.html"
    assert cli("report", two_runs / "torch", two_runs / "keras", "--out", out)[0] == 0
    shot = tmp_path / "shot.png"
    r = subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        f"--screenshot={shot}", "--window-size=1200,3000", f"file://{out}"],
                       capture_output=True, text=True, timeout=120)
    assert shot.is_file(), r.stderr[-2000:]
    im = np.asarray(Image.open(shot).convert("RGB"), np.int32)
    assert im.shape[:2] == (3000, 1200)
    background = np.array([0xF6, 0xF7, 0xF9])
    ink = np.abs(im - background).sum(-1) > 60  # text, tables, plots
    assert ink.mean() > 0.03, ink.mean()
    rows = np.flatnonzero(ink.any(1))
    assert rows.min() < 100 and rows.max() > 2500  # content from the title down to the lower sections
    # the embedded PNGs were decoded: some rows hold the curves' blues and reds (no blank images)
    blue = (im[..., 2] > 150) & (im[..., 0] < 80)
    red = (im[..., 0] > 170) & (im[..., 1] < 80) & (im[..., 2] < 80)
    assert blue.sum() > 500 and red.sum() > 200


def test_markdown_report_of_a_regression_run(cli, tmp_path):
    d = {"name": "reg", "input": {"shape": [6]},
         "model": [{"type": "Dense", "units": 16, "name": "h"}, {"type": "Activation", "fn": "sigmoid", "name": "s"},
                   {"type": "Dense", "units": 1, "name": "y"}],
         "train": {"epochs": 3, "batch_size": 32, "loss": "mse", "metrics": ["mae"], "threads": 1,
                   "optimizer": {"type": "adam", "lr": 0.01}},
         "data": {"source": "synthetic_regression", "options": {"n_samples": 200, "n_features": 6}, "x": "standardize",
                  "y": "standardize"}}
    fit(from_dict(d), backend="torch", out=tmp_path / "run", progress=False)
    out = tmp_path / "rep.md"
    code, stdout, err = cli("report", tmp_path / "run", "--out", out)
    assert code == 0, err
    text = out.read_text()
    assert "residuals" in text and "RMSE" in text and "R²" in text and "| node | type |" in text
    links = re.findall(r"!\[[^\]]*\]\((rep_files/[^)]+\.png)\)", text)
    assert len(links) == 4  # curves of loss, mae and lr, and the residual plot
    for link in links:
        assert (tmp_path / link).read_bytes()[:4] == b"\x89PNG"
    assert "gradients: not recorded" in text  # trained without train.tensorboard: no diagnostics.json
    code, _, err = cli("report", tmp_path / "run", "--out", tmp_path / "other.md", "--format", "md", "--no-eval")
    assert code == 0, err
    assert "evaluation skipped" in (tmp_path / "other.md").read_text()


# ------------------------------------------------------------------------------ the rules
def _hist(tr, va):
    return [{"epoch": i + 1, "loss": a, "val_loss": b} for i, (a, b) in enumerate(zip(tr, va))]


def test_fit_verdicts():
    v = A.fit_verdict(_hist([1.0, 0.6, 0.4, 0.3, 0.2, 0.1], [1.0, 0.7, 0.5, 0.55, 0.62, 0.7]))
    assert v.status == "overfitting" and v.epoch == 4 and "lowest at epoch 3" in v.detail
    v = A.fit_verdict(_hist([1.0, 0.8, 0.6, 0.45, 0.35], [1.1, 0.9, 0.7, 0.55, 0.45]))
    assert v.status == "underfitting (still learning)"
    v = A.fit_verdict(_hist([1.0, 0.5, 0.41, 0.40, 0.399, 0.398], [1.0, 0.6, 0.5, 0.5, 0.5, 0.51]))
    assert v.status == "good fit"
    assert A.fit_verdict(_hist([1.0, 0.5], [1.0, 0.6])).status == "not judged"
    assert A.fit_verdict([{"epoch": 1, "loss": 1.0}] * 5).status == "not judged"


def _spec3():
    return from_dict({"input": {"shape": [4]}, "model": [
        {"type": "Dense", "units": 4, "name": "a"}, {"type": "Activation", "fn": "relu", "name": "r"},
        {"type": "Dense", "units": 4, "name": "b"}, {"type": "Activation", "fn": "sigmoid", "name": "s"},
        {"type": "Dense", "units": 2, "name": "c"}]})


def _diag(rows):
    return {"epochs": [{"epoch": i + 1, "grad_norm": {f"{n}.{p}": v for n, v in zip("abc", r) for p in ("weight", "bias")},
                        "grad_norm_max": {f"{n}.{p}": v for n, v in zip("abc", r) for p in ("weight", "bias")}}
                       for i, r in enumerate(rows)]}


def test_gradient_verdicts():
    spec = _spec3()
    assert A.gradient_verdict(spec, None).status == "not recorded"
    assert A.gradient_verdict(spec, _diag([[1, 1, 1], [0.5, 0.8, 0.9]])).status == "healthy"
    v = A.gradient_verdict(spec, _diag([[1, 1, 1], [1e-2, 1, 1], [1e-4, 1, 1]]))
    assert v.status == "vanishing" and v.epoch == 3 and "a / last node c" in v.detail
    v = A.gradient_verdict(spec, _diag([[1, 1, 1], [10, 1, 1], [2e3, 1, 1]]))
    assert v.status == "exploding" and v.epoch == 3
    v = A.gradient_verdict(spec, _diag([[1, 1, 1], [None, 1, 1]]))
    assert v.status == "exploding" and "not finite" in v.detail


def test_activation_table_dead_relus_and_saturated_sigmoids():
    from xnn.init import init_params

    spec = _spec3()
    p = init_params(spec, seed=0)
    p["a.bias"] = np.array([-1e3, -1e3, 0.0, 0.0])  # units 0 and 1 never fire
    p["b.weight"] = p["b.weight"] * 0
    p["b.bias"] = np.array([50.0, -50.0, 0.0, 0.0])  # two of four sigmoid outputs pinned at 1 and 0
    x = np.random.default_rng(0).normal(size=(64, 4))
    rows = {r["name"]: r for r in A.activation_table(spec, p, x)}
    assert rows["r"]["dead"] == 0.5 and rows["r"]["zero"] >= 0.5 and rows["r"]["saturated"] is None
    assert rows["s"]["saturated"] == 0.5 and rows["s"]["dead"] is None


def test_report_modules_import_no_framework():
    code = ("import sys, xnn.report, xnn.report.plots, xnn.cli.cmd_report, xnn.train.tensorboard\n"
            "bad = [m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules]; assert not bad, bad")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120,
                       env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert r.returncode == 0, r.stderr
