"""ChannelShuffle -> ``Reshape`` (the channel axis split into ``(groups, C / groups)``),
``Transpose`` (the two swapped), ``Reshape`` back: the pattern ShuffleNet files hold, in either
layout (``(N, g, C/g, *S)`` channels-first, ``(N, *S, g, C/g)`` channels-last). The importer
reads the pattern back into this layer."""
from __future__ import annotations

from ..mapping import OnnxMapping


class ChannelShuffleX(OnnxMapping):
    kind = "ChannelShuffle"
    layout = "any"

    def emit(self, node, g, xs, params, layout):
        n, s, grp = node.name, list(node.in_shapes[0]), node.layer.groups
        c = s[-1]
        if layout == "cf" and len(s) >= 2:
            onnx_shape, a = [c, *s[:-1]], 1
        else:
            onnx_shape, a = s, len(s)
        split = [0, *onnx_shape[:a - 1], grp, c // grp, *onnx_shape[a:]]
        y = g.op("Reshape", [xs[0], g.ints(f"{n}.split_shape", split)], f"{n}_split")
        perm = list(range(len(split)))
        perm[a], perm[a + 1] = a + 1, a
        y = g.op("Transpose", [y], f"{n}_swap", perm=perm)
        return g.op("Reshape", [y, g.ints(f"{n}.shape", [0, *onnx_shape])], n)
