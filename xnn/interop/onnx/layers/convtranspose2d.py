"""ConvTranspose2D -> ``ConvTranspose`` with explicit pads and output_padding (see ``_conv_transpose``)."""
from __future__ import annotations

from ._conv_transpose import _ConvTransposeX


class ConvTranspose2DX(_ConvTransposeX):
    kind = "ConvTranspose2D"
