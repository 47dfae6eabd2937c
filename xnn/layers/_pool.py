"""Shared base of MaxPool1D/2D and AvgPool1D/2D (fields, geometry, shape rule, NumPy kernels).

Shapes: 1D ``(L, C)`` -> ``(L', C)``; 2D ``(H, W, C)`` -> ``(H', W', C)``, with
``L' = ceil(L / s)`` for 'same' and ``floor((L - k) / s) + 1`` for 'valid'. No parameters.
Fields: ``pool_size`` (int or one per spatial axis), ``strides`` (default: ``pool_size``),
``padding`` ``valid`` (default) | ``same``.
'same' pads as TensorFlow does (total ``max((ceil(L/s)-1)*s + k - L, 0)``, the extra cell at the
end). Max pooling pads with -inf; **average pooling excludes padded cells from the divisor**
(TF/Keras semantics, ONNX ``count_include_pad=0``).
"""
from __future__ import annotations

from typing import ClassVar, Literal, Optional, Union

import numpy as np
from pydantic import PositiveInt

from ..spec.layer import Layer, Shape, ShapeError
from . import _conv

IntOrList = Union[PositiveInt, list[PositiveInt]]


class PoolBase(Layer):
    nd: ClassVar[int] = 2
    op: ClassVar[str] = "max"
    pool_size: IntOrList = 2
    """Window size, an int or one per spatial axis."""
    strides: Optional[IntOrList] = None
    """Step between windows, an int or one per spatial axis; default: pool_size."""
    padding: Literal["valid", "same"] = "valid"
    """valid or same (TensorFlow's: output ceil(L/s)); padded cells never count (max: -inf; mean: not in divisor)."""

    def geometry(self, in_shape: Shape) -> tuple[tuple[int, ...], tuple[int, ...], _conv.Pads]:
        """``(pool, strides, pads)`` for a per-sample input shape; pads are (lo, hi) per axis."""
        nd = self.nd
        if len(in_shape) != nd + 1:
            raise ShapeError(f"{self.kind} needs a rank-{nd + 1} per-sample input (spatial..., channels)")
        k = _conv.as_tuple(self.pool_size, nd, "pool_size")
        s = _conv.as_tuple(self.strides if self.strides is not None else self.pool_size, nd, "strides")
        pads = _conv.resolve_pads(self.padding, in_shape[:nd], k, s, (1,) * nd)
        return k, s, pads

    def infer(self, in_shapes):
        (shape,) = in_shapes
        k, s, pads = self.geometry(shape)
        out = [_conv.out_len(shape[i], k[i], s[i], 1, *pads[i]) for i in range(self.nd)]
        if any(o < 1 for o in out):
            raise ShapeError(f"pool larger than the input: output would be {out}", "pool_size")
        return (*out, shape[-1])

    def forward(self, p, xs, training=False):
        x = xs[0]
        k, s, pads = self.geometry(x.shape[1:])
        axes = tuple(range(-self.nd, 0))  # windows are (N, *O, C, *k)
        d = (1,) * self.nd
        if self.op == "max":
            return _conv.windows(x, k, s, d, pads, fill=-np.inf).max(axis=axes)
        total = _conv.windows(x, k, s, d, pads).sum(axis=axes)
        # divisor = number of real (unpadded) cells in each window
        count = _conv.windows(np.ones((1, *x.shape[1:])), k, s, d, pads).sum(axis=axes)
        return total / count

