"""ConvTranspose1D: see ``_conv_transpose`` (transposedConv1dLayer layout, k.. x F x C)."""
from ._conv_transpose import ConvTransposeLayout


class ConvTranspose1DM(ConvTransposeLayout):
    kind = "ConvTranspose1D"
