"""``xnn report``: one self-contained HTML (or Markdown) report on one or more run folders.

:func:`build_report` gathers (analysis.py), draws (plots.py) and lays out (render.py):
the runs side by side (history overlaid per metric), each model's layer summary (output shape,
parameters, MACs), the verdicts (over/underfitting, vanishing/exploding gradients; the rules
are in :mod:`xnn.report.analysis`), and per run its test-split evaluation (confusion matrix
and per-class precision/recall, or residuals), gradient norms per layer over training and
activation statistics. Importing this package imports no framework; the evaluation imports
the run's backend (``backend="reference"`` uses the NumPy forward instead).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from . import analysis as A
from .render import Report, to_html, to_markdown

__all__ = ["build_report", "write_report"]

SKIP_KEYS = ("epoch", "step")


def _fmt(v, digits: int = 4) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        return f"{v:.{digits}g}"
    return str(v)


def build_report(paths: list[str | Path], backend: str | None = None, device: str = "cpu", batch: int = 128,
                 evaluate: bool = True) -> Report:
    """The report on the run folders ``paths`` (``backend``: evaluate with this one instead of
    each run's own; ``batch``: test samples for the activation statistics)."""
    from . import plots as P

    runs = A.load_runs(paths)
    names = ", ".join(r.label for r in runs)
    rep = Report(f"xnn report: {runs[0].spec.name}" + (f" and {len(runs) - 1} more run(s)" if len(runs) > 1 else ""),
                 f"runs: {names}")

    # ---------------------------------------------------------------- overview
    s = rep.section("Runs")
    metric_keys = []
    for r in runs:
        for k in _test(r):
            if k not in metric_keys:
                metric_keys.append(k)
    rows = []
    for r in runs:
        m, man, t = r.metrics, r.manifest, r.spec.train
        test = _test(r)
        rows.append([r.label, man.get("backend", man.get("kind", "-")), t.dtype, man.get("status", m.get("status", "-")),
                     _fmt(len(r.history)), _fmt(m.get("best_epoch")), _fmt(m.get("steps")), _fmt(m.get("seconds")),
                     *[_fmt(test.get(k)) for k in metric_keys], str(r.path)])
    s.table(["run", "backend", "dtype", "status", "epochs", "best epoch", "steps", "seconds",
             *[f"test {k}" for k in metric_keys], "folder"], rows,
            ["l", "l", "l", "l", "r", "r", "r", "r", *["r"] * len(metric_keys), "l"])

    s = rep.section("Verdicts")
    s.note(f"fit: overfitting when the validation loss ends > {A.OVERFIT_RISE:.0%} above its minimum (epoch e*) while "
           f"the training loss kept falling (started at e*+1); underfitting when both losses still fall > "
           f"{A.STILL_FALLING:.0%}/epoch over the last {A.TAIL} epochs. gradients: exploding when a parameter's "
           f"epoch-mean gradient norm grows > {A.EXPLODE_GROWTH:g}x its epoch-1 value (or is not finite), vanishing "
           f"when the first trainable node's norm is < {A.VANISH_RATIO:g}x the last one's.")
    for r in runs:
        fv = A.fit_verdict(r.history)
        gv = A.gradient_verdict(r.spec, r.diagnostics)
        s.verdict(f"{r.label} fit", fv.status, fv.detail)
        s.verdict(f"{r.label} gradients", gv.status, gv.detail)

    # ---------------------------------------------------------------- curves
    s = rep.section("Training curves", row=True)
    keys: list[str] = []
    for r in runs:
        for h in r.history:
            for k, v in h.items():
                if k not in SKIP_KEYS and isinstance(v, (int, float)) and k not in keys:
                    keys.append(k)
    bases = []
    for k in keys:
        b = k[4:] if k.startswith("val_") else k
        if b not in bases:
            bases.append(b)
    if not bases:
        s.note("no epoch history in metrics.json")
    for b in bases:
        series = []
        for r in runs:
            tr = [(_epoch(h, i), float(h[b])) for i, h in enumerate(r.history) if _isnum(h.get(b))]
            va = [(_epoch(h, i), float(h["val_" + b])) for i, h in enumerate(r.history)
                  if b != "lr" and _isnum(h.get("val_" + b))]
            series.append((r.label, [e for e, _ in tr], [v for _, v in tr], [e for e, _ in va], [v for _, v in va]))
        s.img(P.curve(b, series, log=b in ("loss", "lr")), f"curve_{b}", f"{b} per epoch (solid: training, dashed: "
              f"validation)" if b != "lr" else "learning rate at the end of each epoch")

    # ---------------------------------------------------------------- models
    seen: dict[str, list[str]] = {}
    for r in runs:
        seen.setdefault(_model_key(r.spec), []).append(r.label)
    done = set()
    for r in runs:
        h = _model_key(r.spec)
        if h in done:
            continue
        done.add(h)
        summ = A.layer_summary(r.spec)
        s = rep.section(f"Model {summ['name']}: input {summ['input']}")
        s.p(f"used by {', '.join(seen[h])}; {summ['total']:,} parameters ({summ['trainable']:,} trainable), "
            f"{summ['macs']:,} MACs per sample" + (f" ({A.human(summ['macs'])})" if summ["macs"] >= 1000 else "")
            + "; FLOPs ~ 2 x MACs")
        s.table(["node", "type", "inputs", "output shape", "params", "MACs"],
                [[x["name"], x["kind"], x["inputs"], x["shape"],
                  f"{x['params']:,}" + ("" if x["trainable"] == x["params"] else f" ({x['trainable']:,} trainable)"),
                  A.human(x["macs"]) if x["macs"] else "-"] for x in summ["rows"]],
                ["l", "l", "l", "l", "r", "r"])

    # ---------------------------------------------------------------- per run
    for r in runs:
        rep.section(r.label)
        s = rep.section("Test split", level=3, row=True)
        if evaluate:
            try:
                ev = A.evaluate_run(r, backend=backend, device=device)
            except Exception as e:  # noqa: BLE001 - one run's failure is shown, the report goes on
                ev = {"note": f"evaluation failed: {type(e).__name__}: {(str(e).splitlines() or [''])[0][:200]}"}
            _evaluation(s, r, ev, P)
        else:
            s.note("evaluation skipped (--no-eval)")
        s = rep.section("Gradient norms per layer", level=3)
        _gradients(s, r, P)
        s = rep.section("Activations", level=3)
        st = A.activation_stats(r, batch=batch)
        if st.get("note"):
            s.note(st["note"])
        elif not st["rows"]:
            s.note("no Activation nodes")
        else:
            s.p(f"NumPy reference forward on {st['n']} test samples. dead: share of units that output 0 for every "
                f"sample (relu, relu6); saturated: share of outputs with sigmoid < {A.SAT_SIGMOID} or > "
                f"{1 - A.SAT_SIGMOID}, |tanh| > {A.SAT_TANH}.")
            s.table(["node", "fn", "mean", "std", "zero outputs", "dead units", "saturated"],
                    [[x["name"], x["fn"], _fmt(x["mean"]), _fmt(x["std"]), _pct(x["zero"]), _pct(x["dead"]),
                      _pct(x["saturated"])] for x in st["rows"]], ["l", "l", "r", "r", "r", "r", "r"])
    return rep


def _model_key(spec) -> str:
    """Runs of one architecture (input and model sections) share one summary."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps([spec.raw.get("input"), spec.raw.get("model")], sort_keys=True,
                                     default=str).encode()).hexdigest()


def _evaluation(s, r, ev: dict, P) -> None:
    if ev.get("note"):
        s.note(ev["note"])
        return
    if ev["task"] == "classification":
        s.img(P.confusion(ev["confusion"], ev["classes"], f"{r.label}: {ev['n']} test samples"),
              f"confusion_{r.label}", f"confusion matrix ({ev['backend']} outputs)")
        s.p(f"accuracy {ev['accuracy']:.4f} over {ev['units']:,} predictions ({ev['backend']} outputs, scikit-learn)")
        s.table(["class", "precision", "recall", "f1", "support"],
                [[c["class"], f"{c['precision']:.3f}", f"{c['recall']:.3f}", f"{c['f1']:.3f}", f"{c['support']:,}"]
                 for c in ev["per_class"]], ["l", "r", "r", "r", "r"])
    else:
        s.img(P.residuals(np.asarray(ev["pred"]), np.asarray(ev["residual"]), r.label), f"residuals_{r.label}",
              f"residuals ({ev['backend']} outputs)")
        s.p(f"{ev['n']} test samples: RMSE {ev['rmse']:.4g}, MAE {ev['mae']:.4g}, R² {ev['r2']:.4f} "
            f"({ev['backend']} outputs; in the targets' units after data.y)")


def _gradients(s, r, P) -> None:
    d = r.diagnostics
    recs = [x for x in (d or {}).get("epochs", []) if isinstance(x, dict) and x.get("grad_norm")]
    if not recs:
        s.note(A.gradient_verdict(r.spec, d).detail)
        return
    names = list(recs[0]["grad_norm"])
    epochs = [int(x.get("epoch", i + 1)) for i, x in enumerate(recs)]
    vals = {k: [float("nan") if x["grad_norm"].get(k) is None else float(x["grad_norm"][k]) for x in recs]
            for k in names}
    s.img(P.grad_norms(names, epochs, vals, f"{r.label}: mean over each epoch's logged steps (before clipping)"),
          f"grad_norms_{r.label}", "gradient norm per parameter over training (log scale)")
    nodes, ep, arr = A.node_grad_norms(r.spec, d)
    last = recs[-1]
    s.table(["node", "grad norm epoch 1", f"grad norm epoch {ep[-1]}", f"weight norm epoch {ep[-1]}"],
            [[n, _fmt(float(arr[0, j])), _fmt(float(arr[-1, j])),
              _fmt(math.sqrt(sum(v * v for k, v in (last.get("weight_norm") or {}).items()
                                 if k.split(".", 1)[0] == n and v is not None)))] for j, n in enumerate(nodes)],
            ["l", "r", "r", "r"])


def _test(r) -> dict:
    t = r.metrics.get("test")
    return {k: v for k, v in t.items() if _isnum(v)} if isinstance(t, dict) else {}


def _epoch(h: dict, i: int) -> int:
    e = h.get("epoch")
    return e if isinstance(e, int) and not isinstance(e, bool) else i + 1


def _pct(v) -> str:
    return "-" if v is None else f"{v * 100:.1f}%"


def _isnum(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def write_report(rep: Report, out: Path, fmt: str) -> list[Path]:
    """Write ``out`` (html | md; Markdown's pictures go to ``<stem>_files/``); returns the paths written."""
    from ..fileio import write_bytes, write_text

    if fmt == "html":
        write_text(out, to_html(rep))
        return [out]
    files_dir = out.parent / f"{out.stem}_files"
    text, files = to_markdown(rep, files_dir)
    files_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files.items():
        write_bytes(files_dir / name, data)
        written.append(files_dir / name)
    write_text(out, text)
    return [out, *written]
