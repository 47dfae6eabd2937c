"""Masked pooling over time: average ``ReduceSum(x * m) / max(ReduceSum(m), 1)``; max ``ReduceMax``
of ``Where(m, x, -inf)``, zeros for a sample without a valid step."""
from __future__ import annotations

import numpy as np

from ..mapping import OnnxMapping
from ._seq import reduce, unsqueeze


class _MaskedPoolX(OnnxMapping):
    layout = "cl"
    op = "avg"

    def emit(self, node, g, xs, params, layout):
        n, (x, mask) = node.name, xs
        m = unsqueeze(g, mask, [2], f"{n}_m3")  # (N, T, 1)
        if self.op == "avg":
            s = reduce(g, "ReduceSum", g.op("Mul", [x, m], f"{n}_xm"), [1], f"{n}_sum")
            c = g.op("Max", [reduce(g, "ReduceSum", m, [1], f"{n}_count"), g.scalar(f"{n}.one", 1.0)], f"{n}_count1")
            return g.op("Div", [s, c], n)
        valid = g.op("Greater", [m, g.scalar(f"{n}.half", 0.5)], f"{n}_valid")
        filled = g.op("Where", [valid, x, g.scalar(f"{n}.ninf", -np.inf)], f"{n}_where")
        y = reduce(g, "ReduceMax", filled, [1], f"{n}_max")
        anyv = g.op("Greater", [reduce(g, "ReduceMax", m, [1], f"{n}_any"), g.scalar(f"{n}.half2", 0.5)], f"{n}_anyb")
        return g.op("Where", [anyv, y, g.scalar(f"{n}.zero", 0.0)], n)
