"""ConvTranspose2D: Keras ``Conv2DTranspose`` where it is exact, else ``XnnConvTranspose`` (see ``_conv_transpose``)."""
from ._conv_transpose import _ConvTransposeK


class ConvTranspose2DK(_ConvTransposeK):
    kind = "ConvTranspose2D"
    nd = 2
