"""ConvTranspose1D/2D -> ``ConvTranspose`` (channels-first) with explicit pads and output_padding.

xnn cuts ``(lo, hi)`` cells per axis from the full transposed convolution (``hi < 0``: zeros
appended, see ``xnn/layers/_conv_transpose.py``). ONNX's output is the full one with
``pads_begin`` and ``pads_end`` cells removed and ``output_padding`` cells of zeros appended (the
bias is added to all of them), so ``pads = [lo...] + [max(hi, 0)...]`` and
``output_padding = max(-hi, 0)``. The weight is canonical ``(C, F/groups, *k)``, as ONNX wants it.
"""
from __future__ import annotations

from ..mapping import OnnxMapping


class _ConvTransposeX(OnnxMapping):
    layout = "cf"

    def emit(self, node, g, xs, params, layout):
        L = node.layer
        k, s, d, _, cut = L.geometry(node.in_shapes[0])
        ins = [xs[0], g.init(f"{node.name}.weight", params["weight"])]
        if "bias" in params:
            ins.append(g.init(f"{node.name}.bias", params["bias"]))
        pads = [lo for lo, _ in cut] + [max(hi, 0) for _, hi in cut]
        return g.op("ConvTranspose", ins, node.name, kernel_shape=list(k), strides=list(s), dilations=list(d),
                    pads=pads, output_padding=[max(-hi, 0) for _, hi in cut], group=L.groups)
