"""Cropping1D: cells removed from the ends of the spatial axes of ``(L, C)`` (see ``_pad_crop``).

``cropping`` (required: Keras's defaults differ between 1-D and 2-D): an int or ``[left, right]``; every amount >= 0, at least one cell must remain.
"""
from __future__ import annotations

from typing import Literal

from ..spec.layer import Case
from ..spec.registry import register
from ._pad_crop import Amount1D, CroppingBase


@register
class Cropping1D(CroppingBase):
    kind = "Cropping1D"
    spatial_rank = 1
    nd = 1
    type: Literal["Cropping1D"] = "Cropping1D"
    cropping: Amount1D
    """Cells removed: an int (both ends) or [left, right]; required; at least one cell must remain."""

    @classmethod
    def cases(cls):
        return [
            Case({"cropping": 1}, [(6, 3)], "both_1"),
            Case({"cropping": [0, 4]}, [(7, 2)], "right_only"),
            Case({"cropping": [3, 1]}, [(5, 2)], "asym_to_one"),
        ]
