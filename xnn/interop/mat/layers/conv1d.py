"""Conv1D: see ``_conv`` (convolution1DdLayer / groupedConvolution2dLayer layouts)."""
from ._conv import ConvLayout


class Conv1DM(ConvLayout):
    kind = "Conv1D"
