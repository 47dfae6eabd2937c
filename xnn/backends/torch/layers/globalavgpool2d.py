"""GlobalAvgPool1D/2D: the mean over the spatial dims, in whichever layout the tensor arrives."""
from ._global_avg_pool import _GlobalAvgPoolT


class GlobalAvgPool2DT(_GlobalAvgPoolT):
    kind = "GlobalAvgPool2D"
    nd = 2
