"""AvgPool1D/2D on channels-first tensors; 'same' excludes padded cells (see ``_pool``)."""
from ._pool import PoolT


class AvgPool1DT(PoolT):
    kind = "AvgPool1D"
    op = "avg"
