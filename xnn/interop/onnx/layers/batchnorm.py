"""BatchNorm -> ``BatchNormalization`` (inference form, channel axis 1, so channels-first).

``momentum`` is written as ONNX's ``1 - momentum`` (ONNX weighs the old running value); it only
matters in training mode, which the exported graph never uses.
"""
from __future__ import annotations

from ..mapping import OnnxMapping


class BatchNormX(OnnxMapping):
    kind = "BatchNorm"
    layout = "cf"

    def emit(self, node, g, xs, params, layout):
        n = node.name
        ins = [xs[0]] + [g.init(f"{n}.{k}", params[k]) for k in ("weight", "bias", "running_mean", "running_var")]
        return g.op("BatchNormalization", ins, n, epsilon=float(node.layer.eps),
                    momentum=float(1.0 - node.layer.momentum))
