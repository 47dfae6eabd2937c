"""Cropping2D: see ``_pad_crop`` (slicing, layout any)."""
from ._pad_crop import _CroppingT


class Cropping2DT(_CroppingT):
    kind = "Cropping2D"
