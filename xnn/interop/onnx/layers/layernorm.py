"""LayerNorm -> ``LayerNormalization(axis=-1)`` (opset >= 17); below 17 the exact decomposition
``(x - mean) / sqrt(var + eps) * weight + bias`` with ``ReduceMean`` over the last axis.
"""
from __future__ import annotations

from ..mapping import OnnxMapping


class LayerNormX(OnnxMapping):
    kind = "LayerNorm"
    layout = "cl"

    def emit(self, node, g, xs, params, layout):
        n, x, eps = node.name, xs[0], float(node.layer.eps)
        w, b = g.init(f"{n}.weight", params["weight"]), g.init(f"{n}.bias", params["bias"])
        if g.opset >= 17:
            return g.op("LayerNormalization", [x, w, b], n, axis=-1, epsilon=eps)
        # the decomposition is only used below opset 17, where ReduceMean takes ``axes`` as an attribute
        mean = g.op("ReduceMean", [x], f"{n}_mean", axes=[-1], keepdims=1)
        d = g.op("Sub", [x, mean], f"{n}_centered")
        var = g.op("ReduceMean", [g.op("Mul", [d, d], f"{n}_sq")], f"{n}_var", axes=[-1], keepdims=1)
        std = g.op("Sqrt", [g.op("Add", [var, g.scalar(f"{n}.eps", eps)], f"{n}_var_eps")], f"{n}_std")
        y = g.op("Mul", [g.op("Div", [d, std], f"{n}_normed"), w], f"{n}_scaled")
        return g.op("Add", [y, b], n)
