"""Dense -> ``Gemm(transB=1)`` on (N, in) tensors; ``MatMul(W.T) + Add`` on higher ranks."""
from __future__ import annotations

from ..mapping import OnnxMapping


class DenseX(OnnxMapping):
    kind = "Dense"
    layout = "cl"

    def emit(self, node, g, xs, params, layout):
        w, b = params["weight"], params.get("bias")
        if len(node.in_shapes[0]) == 1:  # (N, in): Gemm wants rank 2
            ins = [xs[0], g.init(f"{node.name}.weight", w)]
            if b is not None:
                ins.append(g.init(f"{node.name}.bias", b))
            return g.op("Gemm", ins, node.name, transB=1)
        y = g.op("MatMul", [xs[0], g.init(f"{node.name}.weight_t", w.T)], f"{node.name}_matmul")
        if b is None:
            return y
        return g.op("Add", [y, g.init(f"{node.name}.bias", b)], node.name)
