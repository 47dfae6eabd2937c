"""MaxPool1D/2D on channels-first tensors; 'same' pads with -inf (see ``_pool``)."""
from ._pool import PoolT


class MaxPool2DT(PoolT):
    kind = "MaxPool2D"
    op = "max"
