"""SequenceMask -> ``Equal``/``Not`` (any feature for ``(N, T, F)``), a reversed ``CumSum`` over
time and ``> 0``: 1 up to the last non-pad step (right padding), as float."""
from __future__ import annotations

import numpy as np

from ..mapping import OnnxMapping
from ._seq import reduce


class SequenceMaskX(OnnxMapping):
    kind = "SequenceMask"
    layout = "cl"

    def emit(self, node, g, xs, params, layout):
        n = node.name
        is_int = len(node.in_shapes[0]) == 1
        pad = g.init(f"{n}.pad", np.asarray(node.layer.pad_value), np.int64 if is_int else None)
        if is_int and float(node.layer.pad_value) != int(node.layer.pad_value):
            pad = g.init(f"{n}.pad_none", np.asarray(-(2**62)), np.int64)  # no integer id equals it
        nonpad = g.op("Cast", [g.op("Not", [g.op("Equal", [xs[0], pad], f"{n}_eq")], f"{n}_ne")], f"{n}_nonpad",
                      to=g.elem_type)
        if not is_int:
            nonpad = reduce(g, "ReduceMax", nonpad, [2], f"{n}_anyfeat")
        rev = g.op("CumSum", [nonpad, g.ints(f"{n}.axis", 1)], f"{n}_revsum", reverse=1)
        return g.op("Cast", [g.op("Greater", [rev, g.scalar(f"{n}.zero", 0.0)], f"{n}_gt")], n, to=g.elem_type)
