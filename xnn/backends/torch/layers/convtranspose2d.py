"""ConvTranspose2D: ``nn.ConvTranspose2d`` on channels-first tensors (see ``_conv_transpose``)."""
from ._conv_transpose import XConvTranspose2d, _ConvTransposeT


class ConvTranspose2DT(_ConvTransposeT):
    kind = "ConvTranspose2D"
    cls = XConvTranspose2d
