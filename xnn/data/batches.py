"""Deterministic mini-batches and seeded augmentation, identical for every backend.

The permutation of epoch ``e`` is ``np.random.default_rng([seed, e]).permutation(N)``; the
augmentation draws of that epoch come from ``np.random.default_rng([seed, e, 1])``, batch after
batch, so a resumed run at epoch ``e`` sees the same batches as an uninterrupted one.
"""
from __future__ import annotations

from typing import Any, Iterator, Mapping

import numpy as np

from ..errors import DataError


def n_batches(n: int, batch_size: int) -> int:
    """Batches per epoch (the partial last batch counts)."""
    return -(-n // batch_size)


def epoch_order(n: int, seed: int, epoch: int, shuffle: bool = True) -> np.ndarray:
    """Sample indices ``(n,)`` for one epoch."""
    return np.random.default_rng([seed, epoch]).permutation(n) if shuffle else np.arange(n)


def _aug_params(augment: Any) -> tuple[str, int]:
    if augment is None:
        return "none", 0
    if isinstance(augment, Mapping):
        flip, shift = augment.get("flip", "none"), augment.get("shift", 0)
    else:
        flip, shift = getattr(augment, "flip", "none"), getattr(augment, "shift", 0)
    if flip not in ("none", "horizontal", "vertical", "both"):
        raise DataError(f"data.augment.flip: must be none, horizontal, vertical or both (received {flip!r})")
    if not isinstance(shift, (int, np.integer)) or shift < 0:
        raise DataError(f"data.augment.shift: must be an integer >= 0 (received {shift!r})")
    return flip, int(shift)


def augment_batch(x: np.ndarray, rng: np.random.Generator, flip: str = "none", shift: int = 0) -> np.ndarray:
    """Randomly flip and shift a batch (returns a new array; ``x`` is not modified).

    ``x``: images ``(B, H, W, C)`` or signals ``(B, L, C)``. ``horizontal`` flips the W axis
    (L for signals), ``vertical`` the H axis, ``both`` each independently; each flip with
    probability 1/2. ``shift``: every spatial axis moves by an integer drawn uniformly from
    ``[-shift, shift]``, cells moved in are zero. Draws, in this order: flips (one ``(B,)``
    uniform array per flipped axis), then shifts ``(B, n_spatial)`` integers.
    """
    if flip == "none" and shift == 0:
        return x
    if x.ndim not in (3, 4):
        raise DataError(f"data.augment: needs image (H, W, C) or signal (L, C) samples (received {list(x.shape[1:])})")
    out = np.array(x, copy=True)
    b = len(out)
    spatial = out.ndim - 2  # 1 (signal) or 2 (image)
    axes: list[int] = []
    if flip in ("horizontal", "both"):
        axes.append(out.ndim - 2)  # W (or L)
    if flip in ("vertical", "both"):
        if spatial < 2:
            raise DataError("data.augment.flip: vertical flips need image (H, W, C) samples")
        axes.append(1)  # H
    for ax in axes:
        m = rng.random(b) < 0.5
        if m.any():
            out[m] = np.flip(out[m], axis=ax)
    if shift:
        d = rng.integers(-shift, shift + 1, size=(b, spatial))
        sizes = out.shape[1:1 + spatial]
        shifted = np.zeros_like(out)
        for i in range(b):
            src, dst = [], []
            for a in range(spatial):
                s, n = int(d[i, a]), sizes[a]
                if abs(s) >= n:
                    src.append(slice(0, 0))
                    dst.append(slice(0, 0))
                elif s >= 0:
                    src.append(slice(0, n - s))
                    dst.append(slice(s, n))
                else:
                    src.append(slice(-s, n))
                    dst.append(slice(0, n + s))
            shifted[(i, *dst)] = out[(i, *src)]
        out = shifted
    return out


def batches(x: np.ndarray, y: np.ndarray | None, batch_size: int, seed: int, epoch: int,
            shuffle: bool = True, augment: Any = None) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """Yield ``(xb (B, *shape), yb (B, ...))`` for one epoch, the last batch possibly smaller.

    ``augment``: None, an ``AugmentSpec`` or a dict ``{flip, shift}``; pass it for training only.
    The same arguments give the same batches, for either backend.
    """
    if batch_size < 1:
        raise DataError(f"train.batch_size: must be >= 1 (received {batch_size})")
    n = len(x)
    if y is not None and len(y) != n:
        raise DataError(f"y: {len(y)} targets for {n} samples")
    order = epoch_order(n, seed, epoch, shuffle)
    flip, shift = _aug_params(augment)
    rng = np.random.default_rng([seed, epoch, 1]) if (flip != "none" or shift) else None
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        xb = x[idx]
        if rng is not None:
            xb = augment_batch(xb, rng, flip, shift)
        yield xb, (y[idx] if y is not None else None)
