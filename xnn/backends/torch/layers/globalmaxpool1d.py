"""GlobalMaxPool1D: the maximum over the spatial dims, in whichever layout the tensor arrives."""
from ._global_max_pool import _GlobalMaxPoolT


class GlobalMaxPool1DT(_GlobalMaxPoolT):
    kind = "GlobalMaxPool1D"
    nd = 1
