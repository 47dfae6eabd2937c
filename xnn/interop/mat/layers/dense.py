"""Dense: ``Weights`` (Out x In, fullyConnectedLayer's), ``Bias`` (Out x 1).

After a Flatten written column-major (MATLAB's flattenLayer order) the Weights columns are
permuted so the result is unchanged; the note tells the .m forward the input order.
"""
from __future__ import annotations

import numpy as np

from ..layouts import Arrays, Context, MatLayout


def column_perm(node, ctx: Context) -> np.ndarray | None:
    """Column permutation ``p`` with ``W_mat = W[:, p]`` for a Dense after a column-major Flatten."""
    src = ctx.colmajor.get(node.inputs[0])
    if src is None:
        return None
    # MATLAB column j holds xnn's row-major feature index rowmajor[j]
    return np.arange(int(np.prod(src))).reshape(src).reshape(-1, order="F")


class DenseM(MatLayout):
    kind = "Dense"
    absorbs_order = True

    def to_mat(self, node, p: Arrays, ctx: Context) -> Arrays:
        w = p["weight"]
        perm = column_perm(node, ctx)
        out = {"Weights": w[:, perm] if perm is not None else w}
        if "bias" in p:
            out["Bias"] = p["bias"].reshape(-1, 1)
        return out

    def from_mat(self, node, m: Arrays, ctx: Context) -> Arrays:
        w = m["Weights"]
        perm = column_perm(node, ctx)
        if perm is not None:
            inv = np.empty_like(perm)
            inv[perm] = np.arange(perm.size)
            w = w[:, inv]
        out = {"weight": w}
        if "Bias" in m:
            out["bias"] = m["Bias"].reshape(-1)
        return out

    def notes(self, node, ctx: Context) -> dict:
        if node.inputs[0] in ctx.colmajor:
            return {"input_order": "column", "source_shape": list(ctx.colmajor[node.inputs[0]])}
        return {}
