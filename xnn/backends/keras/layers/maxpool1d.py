"""MaxPool1D/2D: Keras ``MaxPooling*D`` (see ``_pool``)."""
from ._pool import PoolK


class MaxPool1DK(PoolK):
    kind = "MaxPool1D"
    op, nd = "max", 1
