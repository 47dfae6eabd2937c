"""MaxPool1D/2D on channels-first tensors; 'same' pads with -inf (see ``_pool``)."""
from ._pool import PoolT


class MaxPool1DT(PoolT):
    kind = "MaxPool1D"
    op = "max"
