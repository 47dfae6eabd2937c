"""Embedding: ``nn.Embedding``; its ``weight (num, dim)`` is the canonical layout."""
from torch import nn

from ..lowering import TorchLowering


class EmbeddingT(TorchLowering):
    kind = "Embedding"
    layout = "cl"

    def build(self, node, ctx):
        return nn.Embedding(node.layer.num_embeddings, node.layer.dim)
