"""Cropping2D -> ``Slice`` on the spatial axes, in either layout (see ``_pad_crop``)."""
from __future__ import annotations

from ._pad_crop import _CroppingX


class Cropping2DX(_CroppingX):
    kind = "Cropping2D"
