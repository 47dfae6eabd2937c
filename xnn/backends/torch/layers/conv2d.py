"""Conv1D/Conv2D on channels-first tensors; TF-style 'same' (asymmetric) via an explicit pad."""
from ._conv import XConv2d, _ConvT


class Conv2DT(_ConvT):
    kind = "Conv2D"
    cls = XConv2d
