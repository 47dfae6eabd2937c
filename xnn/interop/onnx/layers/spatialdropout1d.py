"""SpatialDropout1D -> ``Dropout(ratio)`` (inference: the identity), marked for the importer (see
``_spatial_dropout``)."""
from __future__ import annotations

from ..mapping import OnnxMapping
from ._spatial_dropout import emit


class SpatialDropout1DX(OnnxMapping):
    kind = "SpatialDropout1D"
    layout = "any"

    def emit(self, node, g, xs, params, layout):
        return emit(node, g, xs)
