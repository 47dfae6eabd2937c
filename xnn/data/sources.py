"""Built-in sources: ``digits`` and ``iris`` (scikit-learn's bundled copies, no network) and the
seeded ``synthetic_classification`` / ``synthetic_regression`` generators (NumPy only); the
sequence task (``sequences.py``) and the image tasks ``synthetic_images`` /
``synthetic_segmentation`` (``images.py``) live in their own modules.

Each returns a :class:`~xnn.data.files.RawData` with ``x (N, F)`` float64 and ``y (N,)`` int64
labels or ``(N, T)`` float64 targets (images: ``x (N, H, W, C)``, segmentation ``y (N, H, W)``).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..errors import DataError
from .files import RawData, check_options
from .images import synthetic_images, synthetic_segmentation
from .sequences import synthetic_sequence

BUILTIN = ("digits", "iris", "synthetic_classification", "synthetic_regression", "synthetic_sequence",
           "synthetic_images", "synthetic_segmentation")


def _int_opt(options: dict, key: str, default: int | None, lo: int = 1) -> int | None:
    v = options.get(key, default)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise DataError(f"data.options.{key}: must be an integer >= {lo} (received {v!r})")
    return int(v)


def _float_opt(options: dict, key: str, default: float, lo: float = 0.0) -> float:
    v = options.get(key, default)
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < lo:
        raise DataError(f"data.options.{key}: must be a number >= {lo} (received {v!r})")
    return float(v)


def _subset(x: np.ndarray, y: np.ndarray, options: dict) -> tuple[np.ndarray, np.ndarray]:
    n = _int_opt(options, "n_samples", None)
    if n is not None:
        if n > len(x):
            raise DataError(f"data.options.n_samples: at most {len(x)} for this source (received {n})")
        x, y = x[:n], y[:n]
    return x, y


def digits(options: dict, n_features: int, n_outputs: int, seed: int) -> RawData:
    """1797 8x8 grey images (values 0..16), 10 classes; ``options.n_samples`` keeps the first n."""
    check_options(options, {"n_samples"}, "source 'digits'")
    from sklearn.datasets import load_digits

    d = load_digits()
    x, y = _subset(d.data.astype(np.float64), d.target.astype(np.int64), options)
    return RawData(x, y, "digits")


def iris(options: dict, n_features: int, n_outputs: int, seed: int) -> RawData:
    """150 samples, 4 features, 3 classes."""
    check_options(options, {"n_samples"}, "source 'iris'")
    from sklearn.datasets import load_iris

    d = load_iris()
    x, y = _subset(d.data.astype(np.float64), d.target.astype(np.int64), options)
    return RawData(x, y, "iris", classes=[str(c) for c in d.target_names])


def synthetic_classification(options: dict, n_features: int, n_outputs: int, seed: int) -> RawData:
    """Gaussian blobs: class centres ``N(0, separation^2)``, samples centre + ``N(0, noise^2)``.

    Options: n_samples (1000), n_features (input size), n_classes (model outputs), separation
    (2.0), noise (1.0), seed (train.seed). Labels are balanced and shuffled.
    """
    check_options(options, {"n_samples", "n_features", "n_classes", "separation", "noise", "seed"},
                  "source 'synthetic_classification'")
    n = _int_opt(options, "n_samples", 1000)
    f = _int_opt(options, "n_features", n_features)
    k = _int_opt(options, "n_classes", max(n_outputs, 2), lo=2)
    sep = _float_opt(options, "separation", 2.0)
    noise = _float_opt(options, "noise", 1.0)
    rng = np.random.default_rng([_int_opt(options, "seed", seed, lo=0), 101])
    centres = rng.normal(size=(k, f)) * sep
    y = rng.permutation(np.arange(n) % k).astype(np.int64)
    x = centres[y] + rng.normal(size=(n, f)) * noise
    return RawData(x, y, "synthetic_classification")


def synthetic_regression(options: dict, n_features: int, n_outputs: int, seed: int) -> RawData:
    """``y = x @ w + noise * e`` with ``x, w, e ~ N(0, 1)``; ``y (N, n_targets)``.

    Options: n_samples (1000), n_features (input size), n_targets (model outputs), noise (0.1),
    seed (train.seed).
    """
    check_options(options, {"n_samples", "n_features", "n_targets", "noise", "seed"}, "source 'synthetic_regression'")
    n = _int_opt(options, "n_samples", 1000)
    f = _int_opt(options, "n_features", n_features)
    t = _int_opt(options, "n_targets", n_outputs)
    noise = _float_opt(options, "noise", 0.1)
    rng = np.random.default_rng([_int_opt(options, "seed", seed, lo=0), 202])
    w = rng.normal(size=(f, t)) / np.sqrt(f)
    x = rng.normal(size=(n, f))
    y = x @ w + noise * rng.normal(size=(n, t))
    return RawData(x, y, "synthetic_regression")


SOURCES: dict[str, Callable[..., RawData]] = {
    "digits": digits, "iris": iris,
    "synthetic_classification": synthetic_classification, "synthetic_regression": synthetic_regression,
    "synthetic_sequence": synthetic_sequence,  # xnn/data/sequences.py
    "synthetic_images": synthetic_images, "synthetic_segmentation": synthetic_segmentation,  # xnn/data/images.py
}
