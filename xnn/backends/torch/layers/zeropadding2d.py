"""ZeroPadding2D: see ``_pad_crop`` (``F.pad`` with zeros, layout any)."""
from ._pad_crop import _ZeroPaddingT


class ZeroPadding2DT(_ZeroPaddingT):
    kind = "ZeroPadding2D"
