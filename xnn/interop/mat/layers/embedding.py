"""Embedding: wordEmbeddingLayer's ``Weights`` (Dimension x NumWords)."""
from ._embedding import TableLayout


class EmbeddingM(TableLayout):
    kind = "Embedding"
