"""MaxPool1D/2D: Keras ``MaxPooling*D`` (see ``_pool``)."""
from ._pool import PoolK


class MaxPool2DK(PoolK):
    kind = "MaxPool2D"
    op, nd = "max", 2
