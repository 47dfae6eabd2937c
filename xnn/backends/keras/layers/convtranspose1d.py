"""ConvTranspose1D: Keras ``Conv1DTranspose`` where it is exact, else ``XnnConvTranspose`` (see ``_conv_transpose``)."""
from ._conv_transpose import _ConvTransposeK


class ConvTranspose1DK(_ConvTransposeK):
    kind = "ConvTranspose1D"
    nd = 1
