"""Embedding: Keras ``Embedding``; ``embeddings (input_dim, output_dim)`` is the canonical layout.
The initializer is irrelevant: xnn always loads its own N(0, 1) draw.
"""
import keras

from ..lowering import KerasLowering


class EmbeddingK(KerasLowering):
    kind = "Embedding"

    def build(self, node, ctx):
        L = node.layer
        return keras.layers.Embedding(L.num_embeddings, L.dim, name=node.name, dtype=ctx.dtype)
