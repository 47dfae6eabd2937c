"""Convolution weights: (O, Cg, *k) <-> k.. x C x F (groups 1) or k.. x Cg x Fg x G
(groupedConvolution2dLayer); bias 1.. x F or 1.. x Fg x G."""
from __future__ import annotations

from ..layouts import Arrays, Context, MatLayout


class ConvLayout(MatLayout):
    def to_mat(self, node, p: Arrays, ctx: Context) -> Arrays:
        w = p["weight"]
        g = node.layer.groups
        nd = w.ndim - 2
        o, cg, k = w.shape[0], w.shape[1], w.shape[2:]
        ks = tuple(range(2, 2 + nd))
        ones = (1,) * nd
        if g == 1:
            out = {"Weights": w.transpose(*ks, 1, 0)}
            if "bias" in p:
                out["Bias"] = p["bias"].reshape(*ones, o)
            return out
        fg = o // g
        # group g owns output channels g*Fg .. (g+1)*Fg-1 (same in PyTorch and MATLAB)
        w5 = w.reshape(g, fg, cg, *k).transpose(*(i + 1 for i in ks), 2, 1, 0)
        out = {"Weights": w5}
        if "bias" in p:
            out["Bias"] = p["bias"].reshape(g, fg).T.reshape(*ones, fg, g)
        return out

    def from_mat(self, node, m: Arrays, ctx: Context) -> Arrays:
        g = node.layer.groups
        shape = node.params["weight"].shape
        o, cg, k = shape[0], shape[1], shape[2:]
        nd = len(k)
        w = m["Weights"]
        if g == 1:
            out = {"weight": w.transpose(nd + 1, nd, *range(nd))}
            if "Bias" in m:
                out["bias"] = m["Bias"].reshape(o)
            return out
        fg = o // g
        # (k.., Cg, Fg, G) -> (G, Fg, Cg, k..)
        w = w.reshape(*k, cg, fg, g).transpose(nd + 2, nd + 1, nd, *range(nd)).reshape(o, cg, *k)
        out = {"weight": w}
        if "Bias" in m:
            out["bias"] = m["Bias"].reshape(fg, g).T.reshape(o)
        return out
