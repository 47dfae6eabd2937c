"""What ``xnn report`` finds in run folders: history, diagnostics, a layer summary, test-split
evaluation, activation statistics and the verdicts, as plain data (rendered by
:mod:`xnn.report.render`). Framework-neutral except :func:`evaluate_run`, which recomputes the
outputs with the backend recorded in the run's manifest (as ``xnn evaluate`` does).

The rules, stated once (docs/experiments.md repeats them):

- **Fit** (needs ``val_loss`` and at least :data:`MIN_EPOCHS` epochs): with ``e*`` the epoch of
  the lowest validation loss and ``E`` the last epoch, *overfitting* when ``e* < E``, the final
  validation loss is more than :data:`OVERFIT_RISE` (10 %) above its minimum, and the training
  loss still fell after ``e*``; it started at epoch ``e* + 1``. Otherwise *underfitting (still
  learning)* when both the training and the validation loss fell by more than
  :data:`STILL_FALLING` (1 %) per epoch on average over the last :data:`TAIL` epochs; otherwise
  *good fit*.
- **Gradients** (needs ``diagnostics.json``, written by runs with ``train.tensorboard``): a node's
  gradient norm in an epoch is the root sum of squares of its parameters' epoch-mean gradient
  norms. *Exploding* when any logged norm is not finite or some parameter's epoch-mean norm
  grows more than :data:`EXPLODE_GROWTH` (1e3) times its first-epoch value; *vanishing* when,
  in some epoch, the first trainable node's norm is below :data:`VANISH_RATIO` (1e-3) times the
  last trainable node's; otherwise *healthy*.
- **Activations** (NumPy reference forward on up to ``batch`` test samples): a ReLU (relu,
  relu6) unit is *dead* when it outputs 0 for every sample of the batch (a unit: one element
  of the per-sample output); sigmoid / hard_sigmoid outputs are *saturated* below
  :data:`SAT_SIGMOID` or above ``1 - SAT_SIGMOID``, tanh outputs where ``|y| >`` :data:`SAT_TANH`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

MIN_EPOCHS = 3
OVERFIT_RISE = 0.10
STILL_FALLING = 0.01
TAIL = 3
EXPLODE_GROWTH = 1e3
VANISH_RATIO = 1e-3
SAT_SIGMOID = 0.01
SAT_TANH = 0.99
DEAD_FNS = ("relu", "relu6")
SAT_FNS = ("sigmoid", "hard_sigmoid", "tanh")


@dataclass
class Verdict:
    status: str  # e.g. "overfitting", "good fit", "healthy", "not judged"
    detail: str
    epoch: int | None = None  # where it started, when it has a start


@dataclass
class RunInfo:
    path: Path
    label: str
    spec: Any
    params: dict[str, np.ndarray]
    manifest: dict
    metrics: dict
    diagnostics: dict | None
    history: list[dict] = field(default_factory=list)


# ------------------------------------------------------------------------------ loading
def load_runs(paths: list[str | Path]) -> list[RunInfo]:
    """Each run folder's spec, weights, manifest, metrics.json and diagnostics.json (if any)."""
    from ..errors import FormatError
    from ..limits import read_json_file
    from ..train.run import load_run

    runs = []
    for p in paths:
        d = Path(p)
        spec, params, man = load_run(d, allow_checkpoint=True)
        mfile = d / "metrics.json"
        metrics = read_json_file(mfile) if mfile.is_file() else {}
        dfile = d / "diagnostics.json"
        diag = read_json_file(dfile) if dfile.is_file() else None
        hist = metrics.get("history") if isinstance(metrics, dict) else None
        if hist is not None and (not isinstance(hist, list) or not all(isinstance(h, dict) for h in hist)):
            raise FormatError(f"{mfile}: history: must be a list of epoch records")
        if diag is not None:
            _check_diagnostics(diag, dfile)
        runs.append(RunInfo(d, "", spec, params, man, metrics, diag, list(hist or [])))
    labels = _labels(runs)
    for r, lab in zip(runs, labels):
        r.label = lab
    return runs


def _check_diagnostics(diag: dict, path: Path) -> None:
    """diagnostics.json as written by :mod:`xnn.train.tensorboard`, else one FormatError."""
    from ..errors import FormatError

    recs = diag.get("epochs")
    if not isinstance(recs, list):
        raise FormatError(f"{path}: epochs: must be a list of epoch records")
    for i, r in enumerate(recs):
        if not isinstance(r, dict):
            raise FormatError(f"{path}: epochs[{i}]: must be an object")
        for key in ("grad_norm", "grad_norm_max", "weight_norm"):
            v = r.get(key, {})
            if not isinstance(v, dict) or not all(isinstance(x, (int, float)) and not isinstance(x, bool)
                                                  or x is None for x in v.values()):
                raise FormatError(f"{path}: epochs[{i}].{key}: must map parameter names to numbers")
        if not isinstance(r.get("epoch", 0), int) or isinstance(r.get("epoch"), bool):
            raise FormatError(f"{path}: epochs[{i}].epoch: must be an integer")


def _labels(runs: list[RunInfo]) -> list[str]:
    """``<folder> (<backend>)``; the whole path where two folders share a name."""
    names = [r.path.name or str(r.path) for r in runs]
    out = []
    for r, n in zip(runs, names):
        base = n if names.count(n) == 1 else str(r.path)
        be = r.manifest.get("backend") if r.manifest.get("kind", "train") == "train" else r.manifest.get("kind")
        out.append(f"{base} ({be})" if be else base)
    return out


# ------------------------------------------------------------------------------ summary
def layer_summary(spec) -> dict:
    """Per node: name, kind, inputs, output shape, parameters (trainable), MACs per sample."""
    from ..train.optim import param_info

    info = param_info(spec)
    rows, total, trainable, macs = [], 0, 0, 0
    for n in spec.nodes:
        m = int(n.layer.macs(list(n.in_shapes), tuple(n.out_shape)))
        count = sum(math.prod(p.shape) for p in n.params.values())
        tr = sum(math.prod(p.shape) for k, p in n.params.items() if info[f"{n.name}.{k}"].trainable)
        rows.append({"name": n.name, "kind": n.kind + (f" ({n.layer.fn})" if n.kind == "Activation" else ""),
                     "inputs": ", ".join(n.inputs), "shape": "(N, " + ", ".join(map(str, n.out_shape)) + ")",
                     "params": count, "trainable": tr, "macs": m})
        total, trainable, macs = total + count, trainable + tr, macs + m
    return {"name": spec.name, "input": list(spec.input_shape), "rows": rows, "total": total,
            "trainable": trainable, "macs": macs}


def human(n: float) -> str:
    for unit, div in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(n) >= div:
            return f"{n / div:.2f}{unit}"
    return f"{int(n)}" if float(n).is_integer() else f"{n:.3g}"


# ------------------------------------------------------------------------------ verdicts
def fit_verdict(history: list[dict]) -> Verdict:
    """Over/underfitting from the per-epoch training and validation losses (rule: module doc)."""
    h = [r for r in history if _num(r.get("loss")) is not None and _num(r.get("val_loss")) is not None]
    if not h:
        return Verdict("not judged", "no validation loss in the history (data.split.val is 0)")
    if len(h) < MIN_EPOCHS:
        return Verdict("not judged", f"{len(h)} epoch(s); the rule needs at least {MIN_EPOCHS}")
    tr = [float(r["loss"]) for r in h]
    va = [float(r["val_loss"]) for r in h]
    ep = [r["epoch"] if isinstance(r.get("epoch"), int) else i + 1 for i, r in enumerate(h)]
    i_best = int(np.argmin(va))
    rise = (va[-1] - va[i_best]) / max(abs(va[i_best]), 1e-12)
    if i_best < len(h) - 1 and rise > OVERFIT_RISE and tr[-1] < tr[i_best]:
        return Verdict("overfitting",
                       f"validation loss lowest at epoch {ep[i_best]} ({va[i_best]:.4g}), {rise * 100:.0f}% higher at "
                       f"epoch {ep[-1]} ({va[-1]:.4g}) while the training loss kept falling ({tr[i_best]:.4g} -> "
                       f"{tr[-1]:.4g}); started at epoch {ep[i_best] + 1}", epoch=ep[i_best] + 1)
    k = min(TAIL, len(h) - 1)

    def falling(v):  # mean relative drop per epoch over the last k epochs
        return (v[-k - 1] - v[-1]) / max(abs(v[-k - 1]), 1e-12) / k

    ft, fv = falling(tr), falling(va)
    if ft > STILL_FALLING and fv > STILL_FALLING:
        return Verdict("underfitting (still learning)",
                       f"over the last {k} epochs the training loss fell {ft * 100:.1f}%/epoch and the validation "
                       f"loss {fv * 100:.1f}%/epoch: more epochs (or capacity) should help")
    return Verdict("good fit", f"validation loss lowest at epoch {ep[i_best]} ({va[i_best]:.4g}), final {va[-1]:.4g} "
                               f"(+{max(rise, 0) * 100:.1f}%); training loss final {tr[-1]:.4g}")


def node_grad_norms(spec, diag: dict) -> tuple[list[str], list[int], np.ndarray]:
    """(trainable node names in graph order, epochs, array (epochs, nodes)) of per-node gradient
    norms: the root sum of squares of the node's parameters' epoch-mean norms."""
    recs = [r for r in diag.get("epochs", []) if isinstance(r, dict) and isinstance(r.get("grad_norm"), dict)
            and r["grad_norm"]]
    names = []
    for n in spec.nodes:
        if any(f"{n.name}.{k}" in recs[0]["grad_norm"] for k in n.params) if recs else False:
            names.append(n.name)
    arr = np.full((len(recs), len(names)), np.nan)
    for i, r in enumerate(recs):
        for j, name in enumerate(names):
            vals = [v for k, v in r["grad_norm"].items() if k.split(".", 1)[0] == name]
            vals = [np.nan if v is None else float(v) for v in vals]
            arr[i, j] = math.sqrt(sum(v * v for v in vals)) if vals else np.nan
    return names, [int(r.get("epoch", i + 1)) for i, r in enumerate(recs)], arr


def gradient_verdict(spec, diag: dict | None) -> Verdict:
    """Vanishing / exploding gradients from diagnostics.json (rule: module doc)."""
    if not diag:
        return Verdict("not recorded", "no diagnostics.json: train with --tensorboard DIR (train.tensorboard) to "
                                       "record gradient norms")
    recs = [r for r in diag.get("epochs", []) if isinstance(r, dict) and r.get("grad_norm")]
    if not recs:
        return Verdict("not recorded", "diagnostics.json holds no gradient norms (a parallel run, or no logged step)")
    params = list(recs[0]["grad_norm"])
    for r in recs:
        for k in params:
            for key in ("grad_norm", "grad_norm_max"):
                v = (r.get(key) or {}).get(k)
                if v is None or not math.isfinite(float(v)):
                    return Verdict("exploding", f"{k}: gradient norm not finite in epoch {r.get('epoch')}",
                                   epoch=r.get("epoch"))
    first = {k: float(recs[0]["grad_norm"][k]) for k in params}
    worst = (0.0, None, None)
    for r in recs:
        for k in params:
            if first[k] > 0:
                g = float(r["grad_norm"][k]) / first[k]
                if g > worst[0]:
                    worst = (g, k, int(r.get("epoch", 0)))
    if worst[0] > EXPLODE_GROWTH:
        return Verdict("exploding", f"{worst[1]}: epoch-mean gradient norm {worst[0]:.3g}x its epoch-1 value in epoch "
                                    f"{worst[2]} (rule: > {EXPLODE_GROWTH:g}x)", epoch=worst[2])
    names, epochs, arr = node_grad_norms(spec, diag)
    if len(names) >= 2:
        ratio = arr[:, 0] / np.where(arr[:, -1] > 0, arr[:, -1], np.nan)
        bad = [i for i, q in enumerate(ratio) if np.isfinite(q) and q < VANISH_RATIO]
        if bad:
            i = bad[0]
            return Verdict("vanishing", f"epoch {epochs[i]}: first node {names[0]} / last node {names[-1]} gradient "
                                        f"norm = {ratio[i]:.3g} (rule: < {VANISH_RATIO:g})", epoch=epochs[i])
        q = float(np.nanmin(ratio)) if np.isfinite(ratio).any() else float("nan")
        return Verdict("healthy", f"first/last node gradient-norm ratio >= {q:.3g} in every epoch; largest growth "
                                  f"{worst[0]:.3g}x ({worst[1]})")
    return Verdict("healthy", f"one trainable node; largest growth {worst[0]:.3g}x")


# ------------------------------------------------------------------------------ evaluation
def test_data(run: RunInfo, max_n: int | None = None):
    """``(x, y, classes, note)`` of the run's test split (None with a note when unavailable)."""
    from ..data import load

    spec, man = run.spec, run.manifest
    if man.get("kind") == "import":
        return None, None, None, "an imported model: no training data recorded (xnn evaluate RUN --data FILE)"
    try:
        ds = load(spec)
    except Exception as e:  # noqa: BLE001 - the report goes on without this section
        return None, None, None, f"data {spec.data.source}: {type(e).__name__}: {(str(e).splitlines() or [''])[0][:160]}"
    want = man.get("data_sha256")
    if isinstance(want, str) and ds.data_hash != want:
        return None, None, None, (f"the spec's data ({spec.data.source}) is no longer the data this run was trained on "
                                  f"(sha256 differs)")
    x, y = ds.test
    if tuple(x.shape[1:]) != tuple(spec.input_shape):
        return None, None, None, f"the data's samples {list(x.shape[1:])} do not fit the input {list(spec.input_shape)}"
    if len(x) == 0:
        return None, None, None, "the test split is empty (data.split.test is 0)"
    if max_n is not None:
        x, y = x[:max_n], y[:max_n]
    return x, y, ds.classes, None


def evaluate_run(run: RunInfo, backend: str | None = None, device: str = "cpu") -> dict:
    """Test-split outputs from the run's backend (or ``backend``), then the task's analysis:
    classification (cross-entropy / binary cross-entropy): confusion matrix and per-class
    precision/recall (scikit-learn); regression: residuals, RMSE, MAE, R²."""
    from ..cli._common import default_backend, model_outputs

    x, y, classes, note = test_data(run)
    if x is None:
        return {"note": note}
    be = backend or default_backend(run.manifest)
    z = np.asarray(model_outputs(run.spec, run.params, x, be, device), np.float64)
    out = {"backend": be, "n": int(len(x))}
    loss = run.spec.train.loss.type
    if loss in ("cross_entropy", "binary_cross_entropy"):
        out.update(_classification(z, np.asarray(y), loss, classes))
    else:
        out.update(_regression(z, np.asarray(y, np.float64)))
    return out


def _classification(z: np.ndarray, y: np.ndarray, loss: str, classes) -> dict:
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    if loss == "cross_entropy":
        k = z.shape[-1]
        pred = z.reshape(-1, k).argmax(-1)
        true = y.reshape(-1, k).argmax(-1) if np.issubdtype(y.dtype, np.floating) and y.shape == z.shape else y.reshape(-1)
    else:  # binary: one logit per output, threshold at 0 (probability 0.5)
        k = 2
        pred = (z.reshape(-1) > 0).astype(np.int64)
        true = (y.reshape(-1) > 0.5).astype(np.int64)
    true = true.astype(np.int64)
    labels = list(range(k))
    cm = confusion_matrix(true, pred, labels=labels)
    p, r, f, s = precision_recall_fscore_support(true, pred, labels=labels, zero_division=0)
    names = [str(c) for c in classes] if classes and len(classes) == k else [str(i) for i in labels]
    return {"task": "classification", "confusion": cm.tolist(), "classes": names,
            "per_class": [{"class": names[i], "precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                           "support": int(s[i])} for i in labels],
            "accuracy": float(np.mean(pred == true)), "units": int(len(true))}


def _regression(z: np.ndarray, y: np.ndarray) -> dict:
    zf, yf = z.reshape(-1), y.reshape(z.shape).reshape(-1)
    res = yf - zf
    ss = float(np.sum((yf - yf.mean()) ** 2))
    return {"task": "regression", "pred": zf, "residual": res, "rmse": float(np.sqrt(np.mean(res ** 2))),
            "mae": float(np.mean(np.abs(res))), "r2": float(1 - np.sum(res ** 2) / ss) if ss > 0 else float("nan")}


# ------------------------------------------------------------------------------ activations
def activation_stats(run: RunInfo, batch: int = 128) -> dict:
    """:func:`activation_table` on up to ``batch`` samples of the run's test split."""
    x, _, _, note = test_data(run, max_n=batch)
    if x is None:
        return {"note": note, "rows": []}
    return {"n": int(len(x)), "rows": activation_table(run.spec, run.params, x)}


def activation_table(spec, params: dict[str, np.ndarray], x: np.ndarray) -> list[dict]:
    """Per Activation node, through the NumPy reference forward on the batch ``x``: mean, std,
    and the dead-unit and zero-output fractions (relu, relu6) or the saturated fraction
    (sigmoid, hard_sigmoid, tanh); thresholds in the module doc."""
    from ..reference import forward

    acts = forward(spec, params, x, return_all=True)
    rows = []
    for n in spec.nodes:
        if n.kind != "Activation":
            continue
        a = np.asarray(acts[n.name], np.float64)
        row = {"name": n.name, "fn": n.layer.fn, "mean": float(a.mean()), "std": float(a.std()), "dead": None,
               "zero": None, "saturated": None}
        if n.layer.fn in DEAD_FNS:
            flat = a.reshape(len(a), -1)
            row["dead"] = float(np.mean(np.all(flat <= 0, axis=0)))
            row["zero"] = float(np.mean(flat <= 0))
        elif n.layer.fn in ("sigmoid", "hard_sigmoid"):
            row["saturated"] = float(np.mean((a < SAT_SIGMOID) | (a > 1 - SAT_SIGMOID)))
        elif n.layer.fn == "tanh":
            row["saturated"] = float(np.mean(np.abs(a) > SAT_TANH))
        rows.append(row)
    return rows


def _num(v) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) else None
