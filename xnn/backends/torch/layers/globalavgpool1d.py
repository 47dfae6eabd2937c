"""GlobalAvgPool1D/2D: the mean over the spatial dims, in whichever layout the tensor arrives."""
from ._global_avg_pool import _GlobalAvgPoolT


class GlobalAvgPool1DT(_GlobalAvgPoolT):
    kind = "GlobalAvgPool1D"
    nd = 1
