"""Flatten -> ``Flatten(axis=1)`` on the channels-last tensor ((H, W, C) order, as xnn defines);
Reshape -> ``Reshape(x, [0, *target_shape])`` on the channels-last tensor (0 keeps the batch).
"""
from __future__ import annotations

from ..mapping import OnnxMapping


class FlattenX(OnnxMapping):
    kind = "Flatten"
    layout = "cl"

    def emit(self, node, g, xs, params, layout):
        return g.op("Flatten", [xs[0]], node.name, axis=1)
