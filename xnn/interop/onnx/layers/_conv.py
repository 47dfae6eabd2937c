"""Conv1D/Conv2D -> ``Conv`` (channels-first) with explicit, possibly asymmetric, pads.

'same' pads are resolved from the spec's static shapes (TF rule, extra cell at the end), so no
``auto_pad`` is needed; weights are canonical ``(O, C/groups, *k)``, as ONNX wants them.
"""
from __future__ import annotations

from ..mapping import OnnxMapping, onnx_pads


class _ConvX(OnnxMapping):
    layout = "cf"

    def emit(self, node, g, xs, params, layout):
        L = node.layer
        k, s, d, pads = L.geometry(node.in_shapes[0])
        ins = [xs[0], g.init(f"{node.name}.weight", params["weight"])]
        if "bias" in params:
            ins.append(g.init(f"{node.name}.bias", params["bias"]))
        return g.op("Conv", ins, node.name, kernel_shape=list(k), strides=list(s), dilations=list(d),
                    pads=onnx_pads(pads), group=L.groups)
