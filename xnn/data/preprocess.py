"""Preprocessing fitted on the training split only, stored as plain JSON-able numbers.

``x``: ``none`` | ``standardize`` (``(x - mean) / std``) | ``minmax`` (``(x - min) / (max - min)``),
statistics per feature: over every axis but the last (images ``(N, H, W, C)`` -> per channel,
vectors ``(N, F)`` -> per feature). A zero spread is replaced by 1.
``y``: ``none`` | ``onehot`` (integer labels ``(N, ...)`` -> float ``(N, ..., n_classes)``, e.g.
per-pixel labels ``(N, H, W)`` -> ``(N, H, W, n_classes)``) |
``standardize`` (float targets, per output column; predictions are mapped back with
:meth:`Preprocess.inverse_y`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DataError


def _stats_axes(a: np.ndarray) -> tuple[int, ...]:
    return tuple(range(a.ndim - 1)) if a.ndim > 1 else (0,)


@dataclass
class Preprocess:
    """Fitted preprocessing. ``to_dict``/``from_dict`` round-trip through JSON (a run's manifest).

    Attributes: ``x_method``, ``x_shift`` and ``x_scale`` (per feature, shape ``(F,)``; applied as
    ``(x - shift) / scale``), ``y_method``, ``y_shift``/``y_scale`` (``standardize`` only),
    ``n_classes`` (``onehot``), ``classes`` (names of string labels read from a CSV, or None).
    """

    x_method: str = "none"
    x_shift: np.ndarray | None = None
    x_scale: np.ndarray | None = None
    y_method: str = "none"
    y_shift: np.ndarray | None = None
    y_scale: np.ndarray | None = None
    n_classes: int | None = None
    classes: list[str] | None = field(default=None)

    # ------------------------------------------------------------------ fitting
    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray | None, x_method: str = "none", y_method: str = "none",
            n_classes: int | None = None, classes: list[str] | None = None) -> "Preprocess":
        """Fit on training arrays ``x (N, *shape)`` and ``y (N, ...)``."""
        p = cls(x_method=x_method, y_method=y_method, n_classes=n_classes, classes=classes)
        if x_method != "none":
            if not np.issubdtype(x.dtype, np.floating):
                raise DataError(f"data.x: {x_method} needs float inputs (received {x.dtype})")
            xs = x.astype(np.float64)
            ax = _stats_axes(xs)
            if x_method == "standardize":
                shift, scale = xs.mean(axis=ax), xs.std(axis=ax)
            elif x_method == "minmax":
                shift = xs.min(axis=ax)
                scale = xs.max(axis=ax) - shift
            else:
                raise DataError(f"data.x: unknown preprocessing {x_method!r}")
            p.x_shift = np.atleast_1d(shift)
            p.x_scale = np.where(np.atleast_1d(scale) > 0, np.atleast_1d(scale), 1.0)
        if y_method == "standardize":
            if y is None or not np.issubdtype(y.dtype, np.floating):
                raise DataError("data.y: standardize needs float targets (a regression loss)")
            ys = y.astype(np.float64)
            ax = _stats_axes(ys)
            p.y_shift = np.atleast_1d(ys.mean(axis=ax))
            sc = np.atleast_1d(ys.std(axis=ax))
            p.y_scale = np.where(sc > 0, sc, 1.0)
        elif y_method == "onehot":
            if n_classes is None:
                raise DataError("data.y: onehot needs integer class labels (a classification source)")
        elif y_method != "none":
            raise DataError(f"data.y: unknown preprocessing {y_method!r}")
        return p

    # ------------------------------------------------------------------ applying
    def apply_x(self, x: np.ndarray) -> np.ndarray:
        """Transform inputs ``(N, *shape)``; keeps ``x``'s dtype."""
        if self.x_method == "none" or self.x_shift is None:
            return x
        if x.shape[-1] != self.x_shift.shape[-1] and x.ndim > 1:
            raise DataError(f"x: last axis has {x.shape[-1]} features, preprocessing was fitted on {self.x_shift.shape[-1]}")
        return ((x - self.x_shift) / self.x_scale).astype(x.dtype)

    def apply_y(self, y: np.ndarray, dtype: str = "float32") -> np.ndarray:
        """Transform targets: one-hot ``(N, ...) -> (N, ..., n_classes)`` or standardize."""
        if self.y_method == "onehot":
            return np.eye(int(self.n_classes), dtype=dtype)[np.asarray(y, np.int64)]
        if self.y_method == "standardize" and self.y_shift is not None:
            return ((y - self.y_shift) / self.y_scale).astype(y.dtype)
        return y

    def inverse_y(self, pred: np.ndarray) -> np.ndarray:
        """Map model outputs back to target units (``standardize`` only; else unchanged)."""
        if self.y_method == "standardize" and self.y_shift is not None:
            return (pred * self.y_scale + self.y_shift).astype(pred.dtype)
        return pred

    # ------------------------------------------------------------------ storage
    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (lists of floats)."""
        def arr(a):
            return None if a is None else np.asarray(a, dtype=np.float64).tolist()

        return {"x": {"method": self.x_method, "shift": arr(self.x_shift), "scale": arr(self.x_scale)},
                "y": {"method": self.y_method, "shift": arr(self.y_shift), "scale": arr(self.y_scale),
                      "n_classes": self.n_classes, "classes": self.classes}}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Preprocess":
        """Inverse of :meth:`to_dict`; raises DataError on a malformed dict."""
        try:
            def arr(a):
                return None if a is None else np.asarray(a, dtype=np.float64)

            x, y = d.get("x", {}), d.get("y", {})
            return cls(x_method=str(x.get("method", "none")), x_shift=arr(x.get("shift")), x_scale=arr(x.get("scale")),
                       y_method=str(y.get("method", "none")), y_shift=arr(y.get("shift")), y_scale=arr(y.get("scale")),
                       n_classes=y.get("n_classes"), classes=y.get("classes"))
        except (AttributeError, TypeError, ValueError) as e:
            raise DataError(f"preprocess: malformed parameters ({e})") from None
