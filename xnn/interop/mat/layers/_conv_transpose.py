"""Transposed convolution weights: canonical (C, F/groups, *k) <-> MATLAB k.. x F x C
(transposedConv2dLayer's h x w x NumFilters x NumChannels; transposedConv1dLayer k x F x C, the
1-D order unconfirmed); groups > 1 keep the same formula (k.. x F/groups x C; MATLAB has no
grouped transposed convolution layer). Bias 1.. x F. Notes: ``crops``, the per-axis
``[lo, hi]`` cut from the full output (``hi < 0``: zeros appended), which the .m code and the
toolbox mapping read instead of re-deriving xnn's padding rules."""
from __future__ import annotations

from ..layouts import Arrays, Context, MatLayout


class ConvTransposeLayout(MatLayout):
    def to_mat(self, node, p: Arrays, ctx: Context) -> Arrays:
        w = p["weight"]
        nd = w.ndim - 2
        out = {"Weights": w.transpose(*range(2, 2 + nd), 1, 0)}
        if "bias" in p:
            out["Bias"] = p["bias"].reshape(*(1,) * nd, -1)
        return out

    def from_mat(self, node, m: Arrays, ctx: Context) -> Arrays:
        shape = node.params["weight"].shape
        nd = len(shape) - 2
        c, fg, k = shape[0], shape[1], shape[2:]
        out = {"weight": m["Weights"].reshape(*k, fg, c).transpose(nd + 1, nd, *range(nd))}
        if "Bias" in m:
            out["bias"] = m["Bias"].reshape(-1)
        return out

    def notes(self, node, ctx: Context) -> dict:
        *_, cut = node.layer.geometry(node.in_shapes[0])
        return {"crops": [[int(lo), int(hi)] for lo, hi in cut]}
