"""MultiHeadAttention -> projections + ``F.scaled_dot_product_attention`` (fused; its boolean
``attn_mask`` has xnn's polarity, True = attend). Rows with no attendable key are given a
harmless all-True row (SDPA would return NaN) and zeroed after the output projection."""
import torch
from torch import nn
from torch.nn import functional as F

from ....layers.attention import split_inputs
from ..lowering import TorchLowering


class XMultiHeadAttention(nn.Module):
    def __init__(self, node):
        super().__init__()
        L = node.layer
        self.heads, self.causal, self.p = L.num_heads, L.causal, L.dropout
        self.dk, self.dv, _ = L.dims(node.in_shapes)
        # input roles are fixed by the graph: resolve them once, not on every call
        self.qi, self.kvi, self.mi = split_inputs(list(node.in_shapes))
        for k, prm in node.params.items():
            self.register_parameter(k, nn.Parameter(torch.zeros(prm.shape)))
        if not L.use_bias:
            for k in ("q_bias", "k_bias", "v_bias", "out_bias"):
                self.register_parameter(k, None)

    def _heads(self, x, w, b, d):
        n, t = x.shape[:2]
        return F.linear(x, w, b).reshape(n, t, self.heads, d).transpose(1, 2)  # (N, H, T, d)

    def forward(self, *xs):
        qi, kvi, mi = self.qi, self.kvi, self.mi
        xq = xs[qi]
        xkv = xs[kvi] if kvi is not None else xq
        n, tq, tk = xq.shape[0], xq.shape[1], xkv.shape[1]
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
