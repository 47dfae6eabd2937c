"""xnn's losses and metrics in NumPy: the reference both backends are tested against.

Every loss is a mean over all elements (docs/semantics.md, "Losses"). Model outputs ``z`` are
logits/predictions of shape ``(N, ..., K)``; targets ``y`` are integer labels ``(N, ...)`` or
float arrays shaped like ``z``. Cross-entropy treats every position of the ``...`` axes as one
row: a segmentation output ``(N, H, W, K)`` with labels ``(N, H, W)`` is the mean over the
``N·H·W`` pixels (class weights and label smoothing apply per pixel, the weighted mean divides
by the pixels' summed label weights).

Cross-entropy with class weights ``w`` and label smoothing ``eps`` (PyTorch's mean)::

    ỹ = y·(1 − eps) + eps/K                      (y one-hot or soft, rows of K)
    L = Σ_n Σ_c w_c ỹ_nc (−log softmax(z_n)_c)  /  Σ_n Σ_c w_c y_nc

Without weights the denominator is N (rows of y sum to 1).
"""
from __future__ import annotations

import numpy as np

LOSSES = ("cross_entropy", "binary_cross_entropy", "mse", "mae", "huber")


def _log_softmax(z: np.ndarray) -> np.ndarray:
    m = z.max(axis=-1, keepdims=True)
    s = z - m
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def one_hot(y: np.ndarray, k: int) -> np.ndarray:
    """Integer labels ``(...)`` -> float64 one-hot ``(..., k)``."""
    return np.eye(k)[np.asarray(y, dtype=np.int64)]


def as_targets(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Cross-entropy targets as float ``(M, K)`` rows, ``M = z.size / K``: integer labels shaped
    ``z.shape[:-1]`` (``(N,)``, or ``(N, H, W)`` per pixel) become one-hot; float targets shaped
    like ``z`` are used as given. Raises ValueError naming both shapes otherwise."""
    k = z.shape[-1]
    y = np.asarray(y)
    if np.issubdtype(y.dtype, np.integer):
        if y.shape != z.shape[:-1]:
            raise ValueError(f"cross_entropy: integer labels shaped {list(y.shape)} do not match outputs "
                             f"{list(z.shape)} (labels need the outputs' shape without the class axis)")
        return one_hot(y.reshape(-1), k)
    if y.size != z.size:
        raise ValueError(f"cross_entropy: targets shaped {list(y.shape)} do not match outputs {list(z.shape)}")
    return np.asarray(y, np.float64).reshape(-1, k)


def cross_entropy(z: np.ndarray, y: np.ndarray, label_smoothing: float = 0.0,
                  class_weights: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """Cross-entropy on logits ``z (N, ..., K)`` against labels ``(N, ...)`` or targets shaped
    like ``z``, every position of ``...`` one row (module docstring); ``class_weights (K,)``.
    Returns (loss, dL/dz shaped like z)."""
    z64 = np.asarray(z, np.float64)
    k = z64.shape[-1]
    zz = z64.reshape(-1, k)
    t = as_targets(z64, y)
    w = np.ones(k) if class_weights is None else np.asarray(class_weights, np.float64)
    if w.shape != (k,):
        raise ValueError(f"cross_entropy: class_weights has shape {list(w.shape)}, the outputs have {k} classes")
    ts = t * (1.0 - label_smoothing) + label_smoothing / k
    logp = _log_softmax(zz)
    den = float((t * w).sum())
    wt = ts * w  # (M, K)
    loss = float(-(wt * logp).sum() / den)
    grad = (wt.sum(axis=1, keepdims=True) * np.exp(logp) - wt) / den
    return loss, grad.reshape(z64.shape)


def binary_cross_entropy(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """BCE on logits, mean over all elements: max(z,0) − z·y + log(1 + e^−|z|)."""
    z64 = np.asarray(z, np.float64)
    y64 = np.asarray(y, np.float64).reshape(z64.shape)
    l = np.maximum(z64, 0) - z64 * y64 + np.log1p(np.exp(-np.abs(z64)))
    return float(l.mean()), (1 / (1 + np.exp(-z64)) - y64) / z64.size


def mse(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    d = np.asarray(z, np.float64) - np.asarray(y, np.float64).reshape(np.shape(z))
    return float((d * d).mean()), 2 * d / d.size


def mae(z: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    d = np.asarray(z, np.float64) - np.asarray(y, np.float64).reshape(np.shape(z))
    return float(np.abs(d).mean()), np.sign(d) / d.size


def huber(z: np.ndarray, y: np.ndarray, delta: float = 1.0) -> tuple[float, np.ndarray]:
    """0.5·d² where |d| ≤ delta, else delta·(|d| − delta/2); mean over all elements."""
    d = np.asarray(z, np.float64) - np.asarray(y, np.float64).reshape(np.shape(z))
    a = np.abs(d)
    l = np.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return float(l.mean()), np.clip(d, -delta, delta) / d.size


def loss_and_grad(loss_spec, z: np.ndarray, y: np.ndarray,
                  class_weights: np.ndarray | None = None) -> tuple[float, np.ndarray]:
    """The spec's loss (``train.loss``) and its gradient w.r.t. the model output ``z``."""
    t = loss_spec.type
    if t == "cross_entropy":
        return cross_entropy(z, y, loss_spec.label_smoothing, class_weights)
    if t == "binary_cross_entropy":
        return binary_cross_entropy(z, y)
    if t == "mse":
        return mse(z, y)
    if t == "mae":
        return mae(z, y)
    if t == "huber":
        return huber(z, y, loss_spec.delta)
    raise ValueError(f"unknown loss {t!r}")


def loss_value(loss_spec, z: np.ndarray, y: np.ndarray, class_weights: np.ndarray | None = None) -> float:
    return loss_and_grad(loss_spec, z, y, class_weights)[0]


def resolve_class_weights(train_spec, y_train: np.ndarray | None, n_classes: int) -> np.ndarray | None:
    """``train.class_weights`` as a float64 ``(K,)`` array (or None).

    ``balanced``: w_c = N / (K · count_c) over the training labels (scikit-learn's rule);
    a class absent from the training set gets weight 1.
    """
    cw = train_spec.class_weights
    if cw is None:
        return None
    if train_spec.loss.type != "cross_entropy":
        from ..errors import SpecError

        raise SpecError(f"train.class_weights: only used with cross_entropy (loss is {train_spec.loss.type})")
    if isinstance(cw, list):
        return np.asarray(cw, np.float64)
    if y_train is None:
        raise ValueError("class_weights: balanced needs the training labels")
    y = np.asarray(y_train)
    labels = y.reshape(-1).astype(np.int64) if np.issubdtype(y.dtype, np.integer) else y.reshape(-1, n_classes).argmax(-1)
    counts = np.bincount(labels, minlength=n_classes).astype(np.float64)
    w = np.ones(n_classes)
    nz = counts > 0
    w[nz] = labels.size / (n_classes * counts[nz])
    return w


# ------------------------------------------------------------------ metrics
def predicted_labels(z: np.ndarray, y: np.ndarray, loss_type: str) -> tuple[np.ndarray, np.ndarray]:
    """``(pred, label)`` integer arrays of one shape: for outputs ``z (N, ..., K)``, argmax over
    the last axis and the integer labels ``y (N, ...)`` (or the one-hot's argmax); with
    binary_cross_entropy, ``z > 0`` and ``y > 0.5`` elementwise."""
    z = np.asarray(z)
    y = np.asarray(y)
    if loss_type == "binary_cross_entropy":
        return (z > 0).astype(np.int64), (y.reshape(z.shape) > 0.5).astype(np.int64)
    pred = z.argmax(-1)
    lab = y if (np.issubdtype(y.dtype, np.integer) and y.shape == z.shape[:-1]) else y.reshape(z.shape).argmax(-1)
    return pred, np.asarray(lab, np.int64)


def confusion(pred: np.ndarray, lab: np.ndarray, k: int) -> np.ndarray:
    """``(k, k)`` int64 counts over every element (pixel): row = label, column = prediction."""
    idx = np.asarray(lab, np.int64).reshape(-1) * k + np.asarray(pred, np.int64).reshape(-1)
    return np.bincount(idx, minlength=k * k).reshape(k, k)


def mean_iou(pred: np.ndarray, lab: np.ndarray, k: int) -> float:
    """Mean over classes of ``TP / (TP + FP + FN)`` from the confusion over every element, over
    the classes present in the labels or the predictions (Keras's ``MeanIoU``); 1.0 if none."""
    c = confusion(pred, lab, k).astype(np.float64)
    tp = np.diag(c)
    union = c.sum(0) + c.sum(1) - tp
    ok = union > 0
    return float((tp[ok] / union[ok]).mean()) if ok.any() else 1.0


def metric(name: str, z: np.ndarray, y: np.ndarray, loss_type: str) -> float:
    """accuracy | mean_iou | mae | mse of outputs ``z (N, ..., K)`` against targets ``y``.

    accuracy: mean of ``argmax(z) == label`` over every labelled element (samples, or pixels for
    labels ``(N, H, W)`` against outputs ``(N, H, W, K)``); with binary_cross_entropy it is
    ``(z > 0) == (y > 0.5)`` elementwise. mean_iou: :func:`mean_iou` over the same elements
    (K classes; 2 with binary_cross_entropy). mae, mse: means over all elements.
    """
    z = np.asarray(z, np.float64)
    y = np.asarray(y)
    if name in ("accuracy", "mean_iou"):
        pred, lab = predicted_labels(z, y, loss_type)
        if name == "accuracy":
            return float((pred == lab).mean())
        return mean_iou(pred, lab, 2 if loss_type == "binary_cross_entropy" else int(z.shape[-1]))
    d = z - np.asarray(y, np.float64).reshape(z.shape)
    if name == "mae":
        return float(np.abs(d).mean())
    if name == "mse":
        return float((d * d).mean())
    raise ValueError(f"unknown metric {name!r}")


def evaluate_outputs(train_spec, z: np.ndarray, y: np.ndarray, class_weights: np.ndarray | None = None) -> dict[str, float]:
    """``{"loss": ..., <metric>: ...}`` of model outputs ``z`` against targets ``y`` (float64)."""
    out = {"loss": loss_value(train_spec.loss, z, y, class_weights)}
    for m in train_spec.metrics:
        out[m] = metric(m, z, y, train_spec.loss.type)
    return out
