"""PositionalEmbedding (learned): positionEmbeddingLayer's ``Weights`` (OutputSize x MaxPosition);
the sinusoid variant has no weights."""
from ._embedding import TableLayout


class PositionalEmbeddingM(TableLayout):
    kind = "PositionalEmbedding"
