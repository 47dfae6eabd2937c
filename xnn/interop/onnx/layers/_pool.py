"""MaxPool1D/2D -> ``MaxPool``; AvgPool1D/2D -> ``AveragePool(count_include_pad=0)``;
GlobalAvgPool1D/2D -> ``GlobalAveragePool`` + ``Flatten`` (channels-first, explicit pads).

'same' pads are explicit and asymmetric (extra cell at the end). Average pooling excludes the
padded cells from the divisor, which is exactly ONNX's ``count_include_pad=0`` with explicit pads.
"""
from __future__ import annotations

from ..mapping import OnnxMapping, onnx_pads


class _PoolX(OnnxMapping):
    layout = "cf"
    op = ""

    def emit(self, node, g, xs, params, layout):
        k, s, pads = node.layer.geometry(node.in_shapes[0])
        attrs = dict(kernel_shape=list(k), strides=list(s), pads=onnx_pads(pads))
        if self.op == "AveragePool":
            attrs["count_include_pad"] = 0
        return g.op(self.op, [xs[0]], node.name, **attrs)


class _GlobalAvgX(OnnxMapping):
    layout = "cf"

    def emit(self, node, g, xs, params, layout):
        pooled = g.op("GlobalAveragePool", [xs[0]], f"{node.name}_pool")  # (N, C, 1[, 1])
        return g.op("Flatten", [pooled], node.name, axis=1)
