"""ZeroPadding1D -> ``Pad`` (zeros) on the spatial axes, in either layout (see ``_pad_crop``)."""
from __future__ import annotations

from ._pad_crop import _ZeroPaddingX


class ZeroPadding1DX(_ZeroPaddingX):
    kind = "ZeroPadding1D"
