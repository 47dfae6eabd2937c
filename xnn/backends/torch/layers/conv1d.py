"""Conv1D/Conv2D on channels-first tensors; TF-style 'same' (asymmetric) via an explicit pad."""
from ._conv import XConv1d, _ConvT


class Conv1DT(_ConvT):
    kind = "Conv1D"
    cls = XConv1d
