"""Shared padding arithmetic and NumPy kernels for convolution and pooling (channels-last).

'same' follows TensorFlow: total = max((ceil(L/s)-1)*s + (k-1)*d + 1 - L, 0), the extra cell at
the end (ONNX SAME_UPPER). Explicit padding is symmetric per spatial axis.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..spec.layer import ShapeError

Pads = list[tuple[int, int]]


def as_tuple(v, nd: int, field: str) -> tuple[int, ...]:
    t = (v,) * nd if isinstance(v, int) else tuple(v)
    if len(t) != nd:
        raise ShapeError(f"needs {nd} values (received {list(t)})", field)
    return t


def same_pads(L: int, k: int, s: int, d: int) -> tuple[int, int]:
    total = max((math.ceil(L / s) - 1) * s + (k - 1) * d + 1 - L, 0)
    return total // 2, total - total // 2


def resolve_pads(padding, spatial, k, s, d) -> Pads:
    nd = len(spatial)
    if padding == "valid":
        return [(0, 0)] * nd
    if padding == "same":
        return [same_pads(spatial[i], k[i], s[i], d[i]) for i in range(nd)]
    p = as_tuple(padding, nd, "padding")
    return [(x, x) for x in p]


def out_len(L: int, k: int, s: int, d: int, lo: int, hi: int) -> int:
    return (L + lo + hi - d * (k - 1) - 1) // s + 1


def windows(x: np.ndarray, k, s, d, pads: Pads, fill: float = 0.0) -> np.ndarray:
    """(N, *S, C) -> (N, *O, C, *k) windows after padding, striding and dilation."""
    nd = len(k)
    xp = np.pad(x, [(0, 0)] + list(pads) + [(0, 0)], constant_values=fill)
    eff = [(k[i] - 1) * d[i] + 1 for i in range(nd)]
    w = sliding_window_view(xp, eff, axis=tuple(range(1, 1 + nd)))
    idx = (slice(None),) + tuple(slice(None, None, si) for si in s) + (slice(None),) + tuple(
        slice(None, None, di) for di in d)
    return w[idx]


def conv(x, w, b, s, d, pads: Pads, groups: int) -> np.ndarray:
    """Grouped N-d convolution; ``w`` canonical ``(O, C/groups, *k)``; returns (N, *O, O)."""
    nd = w.ndim - 2
    k = w.shape[2:]
    win = windows(x, k, s, d, pads)  # (N, *P, C, *k)
    n, *pos, c = win.shape[: 2 + nd]
    cg, og = c // groups, w.shape[0] // groups
    win = win.reshape(n, *pos, groups, cg, *k)
    wg = w.reshape(groups, og, cg, *k)
    ks = "hw"[:nd] if nd <= 2 else "hwd"
    ps = "pq"[:nd] if nd <= 2 else "pqr"
    y = np.einsum(f"n{ps}gc{ks},goc{ks}->n{ps}go", win, wg, optimize=True).reshape(n, *pos, groups * og)
    return y + b if b is not None else y
