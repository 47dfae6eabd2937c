"""Cropping1D -> ``Slice`` on the spatial axes, in either layout (see ``_pad_crop``)."""
from __future__ import annotations

from ._pad_crop import _CroppingX


class Cropping1DX(_CroppingX):
    kind = "Cropping1D"
