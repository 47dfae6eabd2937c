"""Conv2D: see ``_conv`` (convolution2DdLayer / groupedConvolution2dLayer layouts)."""
from ._conv import ConvLayout


class Conv2DM(ConvLayout):
    kind = "Conv2D"
