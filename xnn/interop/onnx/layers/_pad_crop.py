"""ZeroPadding1D/2D -> ``Pad`` (mode constant, zeros, pads as an input); Cropping1D/2D -> ``Slice``
(starts/ends/axes as inputs). Both act on whichever layout the tensor arrives in (layout any):
the spatial axes are ``2..`` channels-first and ``1..`` channels-last."""
from __future__ import annotations

from ..mapping import OnnxMapping


def _first_spatial(layout: str) -> int:
    return 2 if layout == "cf" else 1


class _ZeroPaddingX(OnnxMapping):
    layout = "any"

    def emit(self, node, g, xs, params, layout):
        pairs = node.layer.pairs()
        rank = len(node.in_shapes[0]) + 1
        lo, hi = [0] * rank, [0] * rank
        f = _first_spatial(layout)
        for i, (a, b) in enumerate(pairs):
            lo[f + i], hi[f + i] = a, b
        return g.op("Pad", [xs[0], g.ints(f"{node.name}_pads", lo + hi)], node.name, mode="constant")


class _CroppingX(OnnxMapping):
    layout = "any"

    def emit(self, node, g, xs, params, layout):
        pairs = node.layer.pairs()
        spatial = node.in_shapes[0][:-1]
        f = _first_spatial(layout)
        starts = [lo for lo, _ in pairs]
        ends = [spatial[i] - hi for i, (_, hi) in enumerate(pairs)]
        axes = [f + i for i in range(len(pairs))]
        return g.op("Slice", [xs[0], g.ints(f"{node.name}_starts", starts), g.ints(f"{node.name}_ends", ends),
                              g.ints(f"{node.name}_axes", axes)], node.name)
