"""AvgPool1D/2D: Keras ``AveragePooling*D``, whose 'same' already excludes pads (see ``_pool``)."""
from ._pool import PoolK


class AvgPool1DK(PoolK):
    kind = "AvgPool1D"
    op, nd = "avg", 1
