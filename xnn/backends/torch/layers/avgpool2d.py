"""AvgPool1D/2D on channels-first tensors; 'same' excludes padded cells (see ``_pool``)."""
from ._pool import PoolT


class AvgPool2DT(PoolT):
    kind = "AvgPool2D"
    op = "avg"
