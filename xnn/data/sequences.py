"""Seeded synthetic sequence task ``synthetic_sequence`` (NumPy only): "does the first token
occur again later in the sequence?", a task that needs attention (or a recurrent memory).

``x (N, T)`` int64 token ids, right-padded with 0; valid tokens are drawn from ``2..vocab-1``
(``1`` is unused, free for a marker); lengths are uniform in ``[min_length, T]``.
``y (N,)``: 1 when ``x[i, 0]`` occurs at some valid position ``t >= 1``, else 0 (balanced).
Options: n_samples (2000), length (T, default the input's time steps), min_length (4),
vocab (10), seed (train.seed).
"""
from __future__ import annotations

import numpy as np

from .files import RawData, check_options


def synthetic_sequence(options: dict, n_features: int, n_outputs: int, seed: int) -> RawData:
    """Generate the task above; ``n_features`` (the input's element count) is the default T."""
    check_options(options, {"n_samples", "length", "min_length", "vocab", "seed"}, "source 'synthetic_sequence'")
    n = int(options.get("n_samples", 2000))
    t = int(options.get("length", n_features))
    lo = int(options.get("min_length", 4))
    vocab = int(options.get("vocab", 10))
    from ..errors import DataError

    if not (2 <= lo <= t) or vocab < 4 or n < 1:
        raise DataError(f"source 'synthetic_sequence': needs 2 <= min_length <= length, vocab >= 4, n_samples >= 1 "
                        f"(received min_length={lo}, length={t}, vocab={vocab}, n_samples={n})")
    rng = np.random.default_rng([int(options.get("seed", seed)), 303])
    x = np.zeros((n, t), dtype=np.int64)
    y = rng.permutation(np.arange(n) % 2).astype(np.int64)
    for i in range(n):
        length = int(rng.integers(lo, t + 1))
        first = int(rng.integers(2, vocab))
        others = [v for v in range(2, vocab) if v != first]
        x[i, 0] = first
        x[i, 1:length] = rng.choice(others, size=length - 1)
        if y[i]:
            x[i, rng.integers(1, length)] = first
    return RawData(x, y, "synthetic_sequence")
