"""The report's pictures: matplotlib figures rendered to PNG bytes with the Agg canvas (no
pyplot, no global backend switch, no display needed)."""
from __future__ import annotations

import io
import math

import numpy as np

DPI = 100
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
          "#bcbd22"]


def _fig(w: float = 5.2, h: float = 3.4):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(w, h), dpi=DPI)
    return fig, fig.add_subplot(1, 1, 1)


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None}, bbox_inches="tight", pad_inches=0.12)
    return buf.getvalue()


def _epochs_axis(ax) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def curve(metric: str, series: list[tuple[str, list[int], list[float], list[int] | None, list[float] | None]],
          log: bool = False) -> bytes:
    """One metric over epochs, overlaid for every run: training solid, validation dashed.
    ``series``: (label, epochs, train values, val epochs, val values)."""
    fig, ax = _fig()
    for i, (label, ep, tr, vep, va) in enumerate(series):
        c, mk = COLORS[i % len(COLORS)], MARKERS[i % len(MARKERS)]
        # a marker per run, hollow on validation: runs that match exactly stay visible on top of each other
        ms, lw = max(3.0, 7.5 - 2.5 * i), max(1.0, 2.4 - 0.7 * i)
        if tr:
            ax.plot(ep, tr, "-", color=c, marker=mk if len(ep) <= 40 else None, ms=ms, lw=lw, alpha=0.9,
                    label=label if metric == "lr" else f"{label} train")
        if va:
            ax.plot(vep, va, "--", color=c, marker=mk if len(vep) <= 40 else None, ms=ms, mfc="none", lw=lw,
                    alpha=0.9, label=f"{label} val")
    _epochs_axis(ax)
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title(metric)
    if log and all(v > 0 for s in series for v in (s[2] or []) + (s[4] or [])):
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return _png(fig)


def confusion(cm: list[list[int]], classes: list[str], title: str) -> bytes:
    """Confusion matrix, rows true and columns predicted, each cell's count written in it."""
    m = np.asarray(cm)
    k = len(m)
    side = min(9.0, max(3.6, 0.45 * k + 2))
    fig, ax = _fig(side + 0.8, side)
    norm = m / np.maximum(m.sum(1, keepdims=True), 1)
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="fraction of the true class")
    ax.set_xticks(range(k))
    ax.set_yticks(range(k))
    short = [c if len(c) <= 10 else c[:9] + "…" for c in classes]
    ax.set_xticklabels(short, rotation=45 if k > 6 else 0, ha="right" if k > 6 else "center", fontsize=8)
    ax.set_yticklabels(short, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    if k <= 20:
        for i in range(k):
            for j in range(k):
                ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=7 if k > 10 else 9,
                        color="white" if norm[i, j] > 0.5 else "black")
    return _png(fig)


def residuals(pred: np.ndarray, res: np.ndarray, title: str) -> bytes:
    """Residual (target - prediction) against the prediction, and the residuals' histogram."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 3.4), dpi=DPI)
    a1, a2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    n = len(pred)
    idx = np.random.default_rng(0).choice(n, 5000, replace=False) if n > 5000 else slice(None)
    a1.scatter(pred[idx], res[idx], s=6, alpha=0.5, color=COLORS[0])
    a1.axhline(0, color="black", lw=0.8)
    a1.set_xlabel("prediction")
    a1.set_ylabel("target - prediction")
    a1.set_title(f"residuals: {title}", fontsize=10)
    a1.grid(alpha=0.3)
    a2.hist(res, bins=min(50, max(10, int(math.sqrt(n)))), color=COLORS[0], alpha=0.8)
    a2.set_xlabel("target - prediction")
    a2.set_ylabel("count")
    a2.set_title("residual histogram", fontsize=10)
    return _png(fig)


def grad_norms(names: list[str], epochs: list[int], values: dict[str, list[float]], title: str) -> bytes:
    """Per-parameter epoch-mean gradient norms over training (log scale)."""
    fig, ax = _fig(6.4, 3.8)
    for i, name in enumerate(names):
        v = np.asarray(values[name], np.float64)
        ax.plot(epochs, np.where(v > 0, v, np.nan), color=COLORS[i % len(COLORS)],
                ls=["-", "--", ":", "-."][(i // len(COLORS)) % 4], marker="o" if len(epochs) < 30 else None, ms=3,
                label=name)
    ax.set_yscale("log")
    _epochs_axis(ax)
    ax.set_xlabel("epoch")
    ax.set_ylabel("gradient norm (epoch mean)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), ncol=1 if len(names) <= 16 else 2)
    return _png(fig)
