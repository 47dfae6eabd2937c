"""Subtract -> ``Sub``, a lower-rank input ``Unsqueeze``d first (see ``_pointwise``)."""
from __future__ import annotations

from ..mapping import OnnxMapping
from ._pointwise import fold


class SubtractX(OnnxMapping):
    kind = "Subtract"
    layout = "any"

    def emit(self, node, g, xs, params, layout):
        return fold("Sub", node, g, xs, layout)
