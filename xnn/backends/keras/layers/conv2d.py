"""Conv1D/Conv2D: Keras's own 'same' is TF's (extra pad at the end), as xnn defines it;
explicit symmetric padding goes through ZeroPadding. Grouped convs use Keras's ``groups``.
"""
from ._conv import _ConvK


class Conv2DK(_ConvK):
    kind = "Conv2D"
    nd = 2
