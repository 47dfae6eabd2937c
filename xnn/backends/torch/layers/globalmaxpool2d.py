"""GlobalMaxPool2D: the maximum over the spatial dims, in whichever layout the tensor arrives."""
from ._global_max_pool import _GlobalMaxPoolT


class GlobalMaxPool2DT(_GlobalMaxPoolT):
    kind = "GlobalMaxPool2D"
    nd = 2
