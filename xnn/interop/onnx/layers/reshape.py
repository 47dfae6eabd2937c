"""Flatten -> ``Flatten(axis=1)`` on the channels-last tensor ((H, W, C) order, as xnn defines);
Reshape -> ``Reshape(x, [0, *target_shape])`` on the channels-last tensor (0 keeps the batch).
"""
from __future__ import annotations
from ..mapping import OnnxMapping


class ReshapeX(OnnxMapping):
    kind = "Reshape"
    layout = "cl"

    def emit(self, node, g, xs, params, layout):
        shape = g.ints(f"{node.name}.shape", [0, *node.layer.target_shape])
        return g.op("Reshape", [xs[0], shape], node.name)
