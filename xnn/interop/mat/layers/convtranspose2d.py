"""ConvTranspose2D: see ``_conv_transpose`` (transposedConv2dLayer layout, k.. x F x C)."""
from ._conv_transpose import ConvTransposeLayout


class ConvTranspose2DM(ConvTransposeLayout):
    kind = "ConvTranspose2D"
