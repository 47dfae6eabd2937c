"""LRN -> ``LRN(size, alpha, beta, bias)`` on the channels-first tensor, made 4-D first with unit
axes (ONNX Runtime's kernel is 4-D only). ONNX float attributes are float32, so a float64 export
writes the exact decomposition instead: squares, a zero ``Pad`` of the channel axis, the sum of
``size`` shifted ``Slice``s, ``x / Pow(bias + alpha / size * sum, beta)`` (not imported back)."""
from __future__ import annotations

import numpy as np

from ..mapping import OnnxMapping


class LRNX(OnnxMapping):
    kind = "LRN"
    layout = "cf"

    def emit(self, node, g, xs, params, layout):
        L, n, x = node.layer, node.name, xs[0]
        r = len(node.out_shape) + 1
        if g.dtype != np.float32:
            return _exact(L, n, g, x, r, node.out_shape[-1])
        extra = list(range(r, 4))
        y = g.op("Unsqueeze", [x, g.ints(f"{n}.axes", extra)], f"{n}_4d") if extra else x
        y = g.op("LRN", [y], f"{n}_lrn" if extra else n, size=int(L.size), alpha=float(L.alpha), beta=float(L.beta),
                 bias=float(L.bias))
        return g.op("Squeeze", [y, g.ints(f"{n}.squeeze_axes", extra)], n) if extra else y


def _exact(L, n, g, x, r, c):
    h = (L.size - 1) // 2
    sq = g.op("Mul", [x, x], f"{n}_sq")
    pads = [0] * (2 * r)
    pads[1], pads[r + 1] = h, h
    padded = g.op("Pad", [sq, g.ints(f"{n}.pads", pads)], f"{n}_padded")
    s = None
    for i in range(L.size):
        part = g.op("Slice", [padded, g.ints(f"{n}.start{i}", [i]), g.ints(f"{n}.end{i}", [i + c]),
                              g.ints(f"{n}.slice_axes{i}", [1])], f"{n}_window{i}")
        s = part if s is None else g.op("Add", [s, part], f"{n}_sum{i}")
    den = g.op("Add", [g.op("Mul", [s, g.scalar(f"{n}.alpha", L.alpha / L.size)], f"{n}_scaled"),
                       g.scalar(f"{n}.bias", L.bias)], f"{n}_base")
    return g.op("Div", [x, g.op("Pow", [den, g.scalar(f"{n}.beta", L.beta)], f"{n}_den")], n)
