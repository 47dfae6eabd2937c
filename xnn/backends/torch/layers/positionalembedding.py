"""PositionalEmbedding: ``x + P[:T]``; the sinusoidal table is a non-persistent buffer (not a param)."""
import torch
from torch import nn

from ....layers.positionalembedding import sinusoid_table
from ..lowering import TorchLowering


class XPositionalEmbedding(nn.Module):
    def __init__(self, node):
        super().__init__()
        L = node.layer
        t, f = node.in_shapes[0]
        if L.mode == "learned":
            self.weight = nn.Parameter(torch.zeros(L.max_length, f))
        else:
            self.register_buffer("table", torch.as_tensor(sinusoid_table(L.max_length, f)), persistent=False)

    def forward(self, x):
        p = self.weight if hasattr(self, "weight") else self.table
        return x + p[: x.shape[1]]


class PositionalEmbeddingT(TorchLowering):
    kind = "PositionalEmbedding"
    layout = "cl"

    def build(self, node, ctx):
        return XPositionalEmbedding(node)
