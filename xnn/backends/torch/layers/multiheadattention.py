"""MultiHeadAttention -> projections + ``F.scaled_dot_product_attention`` (fused; its boolean
``attn_mask`` has xnn's polarity, True = attend). Rows with no attendable key are given a
harmless all-True row (SDPA would return NaN) and zeroed after the output projection.

Self-attention with equal key/value widths fuses the q/k/v projections into one
``in_proj_weight (3*H*d, E)`` / ``in_proj_bias`` (one matmul, and fewer tensors for the
optimizer); ``to_native``/``from_native`` concatenate and split the canonical q/k/v params.
Weights and biases stay in separate tensors because weight decay treats them differently.
Cross-attention or unequal widths keep the canonical separate projections."""
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ....layers.multiheadattention import split_inputs
from ..lowering import TorchLowering

_QKV = ("q", "k", "v")


def fused(node) -> bool:
    """True where q, k and v project the same tensor to equal widths."""
    qi, kvi, _ = split_inputs(list(node.in_shapes))
    dk, dv, _ = node.layer.dims(node.in_shapes)
    return dk == dv and (kvi is None or node.inputs[kvi] == node.inputs[qi])


class XMultiHeadAttention(nn.Module):
    def __init__(self, node):
        super().__init__()
        L = node.layer
        self.heads, self.causal, self.p = L.num_heads, L.causal, L.dropout
        self.dk, self.dv, _ = L.dims(node.in_shapes)
        # input roles are fixed by the graph: resolve them once, not on every call
        self.qi, self.kvi, self.mi = split_inputs(list(node.in_shapes))
        self.fused = fused(node)
        for k, shape in MultiHeadAttentionT.native_shapes(node).items():
            self.register_parameter(k, nn.Parameter(torch.zeros(shape)))
        if not L.use_bias:
            for k in ("in_proj_bias",) if self.fused else ("q_bias", "k_bias", "v_bias"):
                self.register_parameter(k, None)
            self.register_parameter("out_bias", None)

    def _heads(self, x, w, b, d):
        n, t = x.shape[:2]
        return F.linear(x, w, b).reshape(n, t, self.heads, d).transpose(1, 2)  # (N, H, T, d)

    def forward(self, *xs):
        qi, kvi, mi = self.qi, self.kvi, self.mi
        xq = xs[qi]
        xkv = xs[kvi] if kvi is not None else xq
        n, tq, tk = xq.shape[0], xq.shape[1], xkv.shape[1]
        if self.fused:  # one matmul, then views: (N, T, 3, H, d) -> three (N, H, T, d)
            q, k, v = F.linear(xq, self.in_proj_weight, self.in_proj_bias).view(
                n, tq, 3, self.heads, self.dk).permute(2, 0, 3, 1, 4).unbind(0)
        else:
            q = self._heads(xq, self.q_weight, self.q_bias, self.dk)
            k = self._heads(xkv, self.k_weight, self.k_bias, self.dk)
            v = self._heads(xkv, self.v_weight, self.v_bias, self.dv)
        allowed, rows = None, None
        if mi is not None:
            allowed = (xs[mi] > 0.5)[:, None, None, :]  # (N, 1, 1, Tk), broadcast over heads and queries
            if self.causal:
                allowed = allowed & torch.ones(tq, tk, dtype=torch.bool, device=xq.device).tril()
            rows = allowed.any(dim=-1, keepdim=True)  # (N, 1, Tq or 1, 1)
            # on CPU the check is nearly free and usually true; on an accelerator its host sync
            # would cost more than the guard, so the guard always runs there
            if xq.device.type == "cpu" and bool(rows.all()):
                rows = None
            else:
                allowed = allowed | ~rows
        ctx = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, dropout_p=self.p if self.training else 0.0,
                                             is_causal=self.causal and allowed is None)
        y = F.linear(ctx.transpose(1, 2).reshape(n, tq, self.heads * self.dv), self.out_weight, self.out_bias)
        return y * rows[:, 0].to(y.dtype) if rows is not None else y  # (N, Tq or 1, 1)


class MultiHeadAttentionT(TorchLowering):
    kind = "MultiHeadAttention"
    layout = "cl"

    def build(self, node, ctx):
        return XMultiHeadAttention(node)

    @staticmethod
    def native_shapes(node) -> dict[str, tuple[int, ...]]:
        """The module's parameter names and shapes (canonical ones unless fused)."""
        shapes = {k: tuple(p.shape) for k, p in node.params.items()}
        if not fused(node):
            return shapes
        out = {"in_proj_weight": (sum(shapes[f"{c}_weight"][0] for c in _QKV), shapes["q_weight"][1])}
        if "q_bias" in shapes:
            out["in_proj_bias"] = (sum(shapes[f"{c}_bias"][0] for c in _QKV),)
        out.update({k: s for k, s in shapes.items() if k.startswith("out_")})
        return out

    def to_native(self, node, params):
        if not fused(node):
            return params
        out = {k: v for k, v in params.items() if k.startswith("out_")}
        out["in_proj_weight"] = np.concatenate([params[f"{c}_weight"] for c in _QKV], axis=0)
        if "q_bias" in node.params:
            out["in_proj_bias"] = np.concatenate([params[f"{c}_bias"] for c in _QKV], axis=0)
        return out

    def from_native(self, node, state):
        if not fused(node):
            return {k: state[k] for k in node.params}
        out = {k: state[k] for k in node.params if k.startswith("out_")}
        for kind in ("weight", "bias"):
            if f"q_{kind}" not in node.params:
                continue
            ends = np.cumsum([node.params[f"{c}_{kind}"].shape[0] for c in _QKV])[:-1]
            for c, part in zip(_QKV, np.split(np.asarray(state[f"in_proj_{kind}"]), ends, axis=0)):
                out[f"{c}_{kind}"] = part
        return out
