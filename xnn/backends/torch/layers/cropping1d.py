"""Cropping1D: see ``_pad_crop`` (slicing, layout any)."""
from ._pad_crop import _CroppingT


class Cropping1DT(_CroppingT):
    kind = "Cropping1D"
