"""ConvTranspose1D: ``nn.ConvTranspose1d`` on channels-first tensors (see ``_conv_transpose``)."""
from ._conv_transpose import XConvTranspose1d, _ConvTransposeT


class ConvTranspose1DT(_ConvTransposeT):
    kind = "ConvTranspose1D"
    cls = XConvTranspose1d
