"""``xnn compare SPEC``: train on torch and on Keras from the same initial weights and the same
batches, print the per-epoch losses side by side with the largest divergence, plot them.

With active Dropout the two frameworks draw different masks, so the curves are compared as
statistics (mean and standard deviation of the per-epoch difference); ``--exact`` sets every
Dropout rate to 0 so the runs can be compared step by step.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ._common import add_set, fmt, load_spec_cli, test_metrics

VERB = "compare"
HELP = "train on both backends from the same start and compare the loss curves"
BACKEND_ORDER = ("torch", "keras")  # torch is imported before tensorflow


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="spec file (.yaml/.json) or run folder")
    add_set(p)
    p.add_argument("--epochs", type=int, help="shorthand for --set train.epochs=N")
    p.add_argument("--exact", action="store_true", help="set every Dropout rate to 0 for a step-by-step comparison")
    p.add_argument("--out", help="folder for the two runs (default: a new temporary folder)")
    p.add_argument("--force", action="store_true", help="use a non-empty --out (the old folder is moved aside)")
    p.add_argument("--plot", help="PNG file for the loss curves (default: OUT/compare.png)")
    p.add_argument("--tol", type=float, help="with --exact: fail (exit 1) when the largest relative loss "
                                              "difference exceeds this")
    p.add_argument("--quiet", action="store_true", help="no per-epoch training progress")


def without_dropout(spec):
    """The same spec with every Dropout rate set to 0."""
    from ..spec import from_dict

    raw = spec.to_dict()
    for item in raw["model"]:
        if item.get("type") == "Dropout":
            item["rate"] = 0.0
    return from_dict(raw, source=spec.source)


def has_dropout(spec) -> bool:
    return any(n.kind == "Dropout" and getattr(n.layer, "rate", 0) > 0 for n in spec.nodes)


def compare_runs(spec, out: Path, progress: bool = True) -> dict[str, Any]:
    """Fit ``spec`` with each backend into ``out/<backend>``; return the results by backend."""
    from .cmd_train import fit_spec

    results = {}
    for b in BACKEND_ORDER:
        if progress:
            print(f"--- {b} ---", flush=True)  # which backend the epoch lines below belong to
        results[b] = fit_spec(spec, b, out / b, progress=progress)
    return results


def curves(results: dict[str, Any], key: str) -> dict[str, np.ndarray]:
    out = {}
    for b, r in results.items():
        hist = list(getattr(r, "history", []) or [])
        out[b] = np.array([float(h[key]) if h.get(key) is not None else np.nan for h in hist])
    return out


def divergence(results: dict[str, Any], stochastic: bool) -> dict[str, Any]:
    """Per-epoch loss difference torch - keras: the largest one (absolute and relative, with its
    epoch), or with dropout its mean and standard deviation."""
    c = curves(results, "loss")
    a, b = c["torch"], c["keras"]
    n = min(len(a), len(b))
    d = a[:n] - b[:n]
    rel = np.abs(d) / np.maximum(np.maximum(np.abs(a[:n]), np.abs(b[:n])), 1e-12)
    rep: dict[str, Any] = {"epochs": int(n), "stochastic": stochastic}
    if n:
        i = int(np.nanargmax(np.abs(d)))
        rep.update(max_abs=float(np.abs(d[i])), max_rel=float(np.nanmax(rel)), max_epoch=i + 1,
                   mean=float(np.nanmean(d)), std=float(np.nanstd(d)))
    return rep


def print_table(results: dict[str, Any]) -> None:
    tr, va = curves(results, "loss"), curves(results, "val_loss")
    n = min(len(v) for v in tr.values())
    has_val = all(np.isfinite(v[:n]).any() for v in va.values()) if n else False
    head = f"{'epoch':>5}  {'torch loss':>12}  {'keras loss':>12}  {'|diff|':>10}"
    if has_val:
        head += f"  {'torch val':>12}  {'keras val':>12}"
    print(head)
    for i in range(n):
        line = f"{i + 1:>5}  {tr['torch'][i]:>12.6f}  {tr['keras'][i]:>12.6f}  {abs(tr['torch'][i] - tr['keras'][i]):>10.3g}"
        if has_val:
            line += f"  {va['torch'][i]:>12.6f}  {va['keras'][i]:>12.6f}"
        print(line)


def plot(results: dict[str, Any], path: Path, title: str) -> None:
    """Loss curves (train solid, validation dashed) of both backends and their difference."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..fileio import atomic_path

    tr, va = curves(results, "loss"), curves(results, "val_loss")
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    # identical curves would hide one another: torch wide and pale, Keras thin with markers on top
    style = {"torch": dict(color="tab:red", linewidth=5, alpha=0.45), "keras": dict(color="tab:blue", linewidth=1.2, marker="o", markersize=3)}
    for b in ("torch", "keras"):
        ep = np.arange(1, len(tr[b]) + 1)
        ax1.plot(ep, tr[b], label=f"{b} train", **style[b])
        if np.isfinite(va[b]).any():
            ax1.plot(ep, va[b], linestyle="--", label=f"{b} val", **style[b])
    ax1.set_xlabel("epoch")
    ax1.xaxis.get_major_locator().set_params(integer=True)
    ax2.xaxis.get_major_locator().set_params(integer=True)
    ax1.set_ylabel("loss")
    ax1.set_title(title)
    ax1.legend()
    n = min(len(tr["torch"]), len(tr["keras"]))
    ax2.plot(np.arange(1, n + 1), tr["torch"][:n] - tr["keras"][:n], color="k")
    ax2.axhline(0, color="grey", linewidth=0.5)
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("torch - keras (train loss)")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            fig.savefig(f, format="png", dpi=100)
    plt.close(fig)


def report(spec, results: dict[str, Any], out: Path, plot_path: Path | None, exact: bool) -> dict[str, Any]:
    """Print the table and divergence, write compare.json and the plot; return the summary."""
    from ..fileio import write_json

    stochastic = has_dropout(spec)
    print_table(results)
    div = divergence(results, stochastic)
    if div.get("epochs"):
        if stochastic:
            print(f"dropout is active: the frameworks draw different masks, so the curves are compared as "
                  f"statistics: mean difference {div['mean']:.4g}, std {div['std']:.4g} over {div['epochs']} epochs "
                  f"(use --exact for a step-by-step comparison)")
        else:
            print(f"largest divergence: {div['max_abs']:.3g} (relative {div['max_rel']:.3g}) at epoch {div['max_epoch']}"
                  + (" [--exact: dropout off]" if exact else ""))
            if spec.train.dtype == "float32":
                print("note: in float32 the two runs drift apart as rounding differences compound over the steps; "
                      "--set train.dtype=float64 agrees step by step to about 1e-8")
    tests = {b: test_metrics(r) for b, r in results.items()}
    for b, m in tests.items():
        if m:
            print(f"{b} test: " + "  ".join(f"{k} {fmt(v)}" for k, v in m.items()))
    summary = {"spec": spec.name, "exact": exact, "divergence": div, "test": tests,
               "loss": {b: curves(results, "loss")[b].tolist() for b in results},
               "val_loss": {b: curves(results, "val_loss")[b].tolist() for b in results},
               "runs": {b: str(getattr(r, "run_dir", out / b)) for b, r in results.items()}}
    if plot_path is not None:
        plot(results, plot_path, spec.name)
        summary["plot"] = str(plot_path)
        print(f"plot written to {plot_path}")
    write_json(out / "compare.json", summary)
    return summary


def run(args: argparse.Namespace) -> int:
    from ..errors import ParityError
    from .cmd_train import overrides_of

    args.device = None
    spec = load_spec_cli(args.spec, overrides_of(args))
    if args.exact:
        spec = without_dropout(spec)
    from ._common import check_out_dir

    keep = args.out is not None
    out = Path(args.out) if keep else Path(tempfile.mkdtemp(prefix="xnn-compare-"))
    try:
        check_out_dir(out, force=args.force)
        results = compare_runs(spec, out, progress=not args.quiet)
        plot_path = Path(args.plot) if args.plot else (out / "compare.png" if keep else None)
        summary = report(spec, results, out, plot_path, args.exact)
    finally:
        if not keep:
            shutil.rmtree(out, ignore_errors=True)
    print(f"runs in {out}" if keep else "runs not kept (--out DIR keeps them with compare.png)")
    div = summary["divergence"]
    if args.tol is not None and not div.get("stochastic") and div.get("max_rel", 0) > args.tol:
        raise ParityError(f"{spec.name}: loss curves diverge by {div['max_rel']:.3g} (relative) > --tol {args.tol}")
    return 0
