"""GlobalMaxPool2D -> ``GlobalMaxPool`` (channels-first, ``(N, C, 1...)``) + ``Flatten(axis=1)``."""
from __future__ import annotations

from ..mapping import OnnxMapping


class GlobalMaxPool2DX(OnnxMapping):
    kind = "GlobalMaxPool2D"
    layout = "cf"

    def emit(self, node, g, xs, params, layout):
        pooled = g.op("GlobalMaxPool", [xs[0]], f"{node.name}_pool")
        return g.op("Flatten", [pooled], node.name, axis=1)
