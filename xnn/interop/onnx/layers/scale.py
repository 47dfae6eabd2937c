"""Scale -> ``Mul`` by the weight (then ``Add`` of the bias), either layout: the parameters, of the
per-sample channels-last ``shape``, are written with the batch axis and the full rank, their
channel axis first on a channels-first tensor, so ONNX's broadcasting is xnn's. The importer reads
``Mul``/``Add`` of a constant back into this layer."""
from __future__ import annotations

import numpy as np

from ..mapping import OnnxMapping


def arranged(p: np.ndarray, rank: int, channels_first: bool) -> np.ndarray:
    """A per-sample parameter as ONNX broadcasts it: ``(1, *full)`` or ``(1, C, *S)``."""
    p = np.asarray(p).reshape((1,) * (rank - np.ndim(p)) + np.shape(p))
    if channels_first:
        p = np.moveaxis(p, rank - 1, 0)
    return p[None]


class ScaleX(OnnxMapping):
    kind = "Scale"
    layout = "any"

    def emit(self, node, g, xs, params, layout):
        n = node.name
        rank = len(node.in_shapes[0])
        cf = layout == "cf" and rank >= 2
        bias = node.layer.use_bias
        w = g.init(f"{n}.weight", arranged(params["weight"], rank, cf))
        y = g.op("Mul", [xs[0], w], f"{n}_scaled" if bias else n)
        if bias:
            y = g.op("Add", [y, g.init(f"{n}.bias", arranged(params["bias"], rank, cf))], n)
        return y
