"""Shared by SpatialDropout1D and SpatialDropout2D: inverted dropout of whole channels.

In training each (sample, channel) pair is dropped with probability ``rate`` (every spatial
position of that channel is zeroed) and survivors are scaled by ``1 / (1 - rate)``; in evaluation
the identity. Random streams differ between backends (and from NumPy), so only the distribution
is shared, as for Dropout.
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np
from pydantic import Field

from ..spec.layer import Case, Layer, ShapeError


class SpatialDropoutBase(Layer):
    dims: ClassVar[int] = 1  # spatial axes: the input is (*S, C) with len(S) == dims
    shape_fields = ()
    rate: float = Field(0.5, ge=0.0, lt=1.0)
    """Probability of zeroing each (sample, channel) in training; survivors scaled by 1 / (1 - rate)."""

    def infer(self, in_shapes):
        (s,) = in_shapes
        if len(s) != self.dims + 1:
            want = "(L, C)" if self.dims == 1 else "(H, W, C)"
            raise ShapeError(f"{self.kind} takes {want} inputs (rank {len(s)} given)")
        return s

    def forward(self, p, xs, training=False, rng: np.random.Generator | None = None):
        x = xs[0]
        if not training or self.rate == 0.0:
            return x
        rng = rng if rng is not None else np.random.default_rng()
        keep = rng.random((x.shape[0], *(1,) * self.dims, x.shape[-1])) >= self.rate
        return np.where(keep, x / (1.0 - self.rate), 0.0)

    @classmethod
    def cases(cls):
        shape = (6, 4) if cls.dims == 1 else (5, 4, 3)
        other = (5, 3) if cls.dims == 1 else (3, 6, 2)
        return [Case({"rate": 0.3}, [shape], "rate_0.3"), Case({}, [other], "default_rate")]
