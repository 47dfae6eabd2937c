"""AvgPool1D/2D: Keras ``AveragePooling*D``, whose 'same' already excludes pads (see ``_pool``)."""
from ._pool import PoolK


class AvgPool2DK(PoolK):
    kind = "AvgPool2D"
    op, nd = "avg", 2
