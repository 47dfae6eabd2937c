"""Seeded synthetic image sources (NumPy only, offline): ``synthetic_images`` (classify the one
shape drawn in each image) and ``synthetic_segmentation`` (label every pixel with the shape that
covers it).

Every image is a random background level, one or more filled shapes (``SHAPES``) of a random
position, size and colour, then smooth low-frequency noise and per-pixel noise over everything.
A shape's colour differs from its image's background level by 0.3..0.6 in every channel (the
sign drawn per channel), so every shape is visible; noise, colour, size and position are what a
model has to see past. Values lie roughly in [-0.6, 1.6]; use ``data.x: standardize``.

- ``synthetic_images``: ``x (N, S, S, C)`` float64, ``y (N,)`` int64 shape class in
  ``[0, classes)`` (balanced: ``n`` times ``% classes``, shuffled).
- ``synthetic_segmentation``: ``x (N, S, S, C)`` float64, ``y (N, S, S)`` int64 per-pixel class:
  0 background, ``k`` = shape class ``k - 1`` (``1..classes``); each image has 1..``shapes``
  shapes, later ones drawn over earlier ones.

Options: ``n_samples`` (3000 / 1000), ``size`` S and ``channels`` C (default: the spec's
``input.shape`` when it is ``[S, S, 1]`` or ``[S, S, 3]``, else 32 and 3), ``classes`` (default:
the model's outputs, minus 1 for segmentation's background, within ``2..8``), ``noise`` (0.15:
std of the smooth noise; the per-pixel noise is half of it), ``shapes`` (segmentation, 3),
``seed`` (train.seed). Draws come from ``np.random.default_rng([seed, 404])`` (images) and
``[seed, 505]`` (segmentation) in a fixed order, so the same options give the same arrays.
"""
from __future__ import annotations

from math import isqrt

import numpy as np

from ..errors import DataError
from ..limits import limit
from .files import RawData, check_options

SHAPES = ("disc", "square", "triangle", "plus", "ring", "hbar", "vbar", "diamond")
MIN_SIZE = 8
_GRID = 5  # smooth noise: a (5, 5) grid of normal draws, bilinearly upsampled


def _int(options: dict, key: str, default: int, lo: int, hi: int | None = None) -> int:
    v = options.get(key, default)
    ok = not isinstance(v, bool) and isinstance(v, (int, np.integer)) and v >= lo and (hi is None or v <= hi)
    if not ok:
        rng = f"an integer >= {lo}" if hi is None else f"an integer in {lo}..{hi}"
        raise DataError(f"data.options.{key}: must be {rng} (received {v!r})")
    return int(v)


def _noise(options: dict) -> float:
    v = options.get("noise", 0.15)
    if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or not np.isfinite(v) or v < 0:
        raise DataError(f"data.options.noise: must be a finite number >= 0 (received {v!r})")
    return float(v)


def default_geometry(n_features: int) -> tuple[int, int]:
    """``(size, channels)`` of a square ``(S, S, C)`` input with ``n_features = S·S·C`` elements
    and C in (3, 1) (at most one fits: 3·S² is never a square), else ``(32, 3)``."""
    for c in (3, 1):
        s = isqrt(max(n_features, 0) // c)
        if c * s * s == n_features and s >= MIN_SIZE:
            return s, c
    return 32, 3


def _geometry(options: dict, n_features: int, n_outputs: int, background: bool, n_default: int
              ) -> tuple[int, int, int, int]:
    """Checked ``(n_samples, size, channels, classes)``."""
    s0, c0 = default_geometry(n_features)
    n = _int(options, "n_samples", n_default, 1)
    size = _int(options, "size", s0, MIN_SIZE)
    channels = _int(options, "channels", c0, 1)
    k0 = min(max(n_outputs - (1 if background else 0), 2), len(SHAPES))
    classes = _int(options, "classes", k0, 2, len(SHAPES))
    nbytes = n * size * size * channels * 8
    if nbytes > limit("MAX_ARRAY_BYTES"):
        raise DataError(f"data.options: n_samples x size x size x channels is {nbytes} bytes of float64, over the "
                        f"limit of {limit('MAX_ARRAY_BYTES')} (XNN_LIMIT_MAX_ARRAY_BYTES raises it)")
    return n, size, channels, classes


def _upsample_matrix(n: int, g: int) -> np.ndarray:
    """Linear interpolation ``(n, g)`` from ``g`` grid points to ``n`` pixels (ends aligned)."""
    pos = np.linspace(0.0, g - 1.0, n)
    i0 = np.minimum(np.floor(pos).astype(np.int64), g - 2)
    f = pos - i0
    m = np.zeros((n, g))
    m[np.arange(n), i0] = 1.0 - f
    m[np.arange(n), i0 + 1] = f
    return m


def shape_masks(kind: np.ndarray, cy: np.ndarray, cx: np.ndarray, r: np.ndarray, size: int) -> np.ndarray:
    """Boolean masks ``(N, S, S)`` of shape ``SHAPES[kind[i]]`` centred at ``(cy[i], cx[i])``
    (pixel units, row/column) with half-extent ``r[i]`` pixels; all inputs ``(N,)``."""
    n = len(kind)
    out = np.zeros((n, size, size), dtype=bool)
    grid = np.arange(size, dtype=np.float64)
    for k in np.unique(kind):
        idx = np.flatnonzero(kind == k)
        dy = (grid[None, :, None] - cy[idx, None, None]) / r[idx, None, None]  # (n_k, S, 1)
        dx = (grid[None, None, :] - cx[idx, None, None]) / r[idx, None, None]  # (n_k, 1, S)
        ay, ax = np.abs(dy), np.abs(dx)
        name = SHAPES[int(k)]
        if name == "disc":
            m = dy * dy + dx * dx <= 1.0
        elif name == "square":
            m = (ay <= 0.8) & (ax <= 0.8)
        elif name == "triangle":  # apex up, base at the bottom
            m = (dy >= -1.0) & (dy <= 0.8) & (ax <= (dy + 1.0) / 1.8)
        elif name == "plus":
            m = ((ax <= 0.3) & (ay <= 1.0)) | ((ay <= 0.3) & (ax <= 1.0))
        elif name == "ring":
            d2 = dy * dy + dx * dx
            m = (d2 <= 1.0) & (d2 >= 0.5 ** 2)
        elif name == "hbar":
            m = (ay <= 0.3) & (ax <= 1.0)
        elif name == "vbar":
            m = (ax <= 0.3) & (ay <= 1.0)
        else:  # diamond
            m = ax + ay <= 1.0
        out[idx] = m
    return out


def render(rng: np.random.Generator, kinds: np.ndarray, present: np.ndarray, size: int, channels: int,
           noise: float, radius: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Draw images. ``kinds``, ``present``: ``(N, n_slots)`` shape class and whether slot ``j`` is
    drawn; ``radius``: half-extent range as fractions of ``size``.

    Returns ``x (N, S, S, C)`` float64 and the label map ``(N, S, S)`` int64 (0 background,
    ``kind + 1`` where a shape shows; later slots cover earlier ones).
    """
    n, slots = kinds.shape
    base = rng.uniform(0.2, 0.8, size=(n, 1, 1, channels))
    x = np.broadcast_to(base, (n, size, size, channels)).copy()
    lab = np.zeros((n, size, size), dtype=np.int64)
    for j in range(slots):
        r = rng.uniform(*radius, size=n) * size
        cy = rng.uniform(r, size - 1 - r)
        cx = rng.uniform(r, size - 1 - r)
        offset = rng.uniform(0.3, 0.6, size=(n, channels)) * rng.choice([-1.0, 1.0], size=(n, channels))
        m = shape_masks(kinds[:, j], cy, cx, r, size) & present[:, j, None, None]
        colour = base[:, 0, 0, :] + offset  # (N, C)
        x = np.where(m[..., None], colour[:, None, None, :], x)
        lab = np.where(m, kinds[:, j, None, None] + 1, lab)
    up = _upsample_matrix(size, _GRID)
    low = rng.normal(size=(n, _GRID, _GRID, channels)) * noise
    x += np.einsum("hi,nijc,wj->nhwc", up, low, up, optimize=True)
    x += rng.normal(size=x.shape) * (noise / 2)
    return x, lab


def synthetic_images(options: dict, n_features: int, n_outputs: int, seed: int) -> RawData:
    """One shape per image; ``x (N, S, S, C)`` float64, ``y (N,)`` int64 (module docstring)."""
    check_options(options, {"n_samples", "size", "channels", "classes", "noise", "seed"}, "source 'synthetic_images'")
    n, size, channels, classes = _geometry(options, n_features, n_outputs, False, 3000)
    noise = _noise(options)
    rng = np.random.default_rng([_int(options, "seed", seed, 0), 404])
    y = rng.permutation(np.arange(n) % classes).astype(np.int64)
    x, _ = render(rng, y[:, None], np.ones((n, 1), dtype=bool), size, channels, noise, (0.15, 0.3))
    return RawData(x, y, "synthetic_images", classes=list(SHAPES[:classes]))


def synthetic_segmentation(options: dict, n_features: int, n_outputs: int, seed: int) -> RawData:
    """1..``shapes`` shapes per image; ``x (N, S, S, C)`` float64, ``y (N, S, S)`` int64 with
    0 = background and ``k`` = shape class ``k - 1`` (module docstring)."""
    check_options(options, {"n_samples", "size", "channels", "classes", "noise", "shapes", "seed"},
                  "source 'synthetic_segmentation'")
    n, size, channels, classes = _geometry(options, n_features, n_outputs, True, 1000)
    noise = _noise(options)
    slots = _int(options, "shapes", 3, 1, 16)
    rng = np.random.default_rng([_int(options, "seed", seed, 0), 505])
    kinds = rng.integers(0, classes, size=(n, slots))
    count = rng.integers(1, slots + 1, size=n)
    present = np.arange(slots)[None, :] < count[:, None]
    x, lab = render(rng, kinds, present, size, channels, noise, (0.12, 0.25))
    return RawData(x, lab, "synthetic_segmentation", classes=["background", *SHAPES[:classes]])
