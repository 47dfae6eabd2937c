"""ClassToken -> ``Expand`` of the ``(1, 1, D)`` token to ``(N, 1, D)`` (N read with ``Shape`` and
``Gather``), then ``Concat(axis=1)`` in front of the sequence. Every op exists at opset 13."""
from __future__ import annotations

from ..mapping import OnnxMapping


class ClassTokenX(OnnxMapping):
    kind = "ClassToken"
    layout = "cl"

    def emit(self, node, g, xs, params, layout):
        d = node.in_shapes[0][-1]
        tok = g.init(f"{node.name}.token", params["token"].reshape(1, 1, d))
        n = g.op("Gather", [g.op("Shape", [xs[0]], f"{node.name}/shape"), g.ints(f"{node.name}.batch_axis", [0])],
                 f"{node.name}/batch", axis=0)
        shape = g.op("Concat", [n, g.ints(f"{node.name}.token_shape", [1, d])], f"{node.name}/expand_shape", axis=0)
        return g.op("Concat", [g.op("Expand", [tok, shape], f"{node.name}/tokens"), xs[0]], node.name, axis=1)
