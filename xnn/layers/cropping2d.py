"""Cropping2D: cells removed from the ends of the spatial axes of ``(H, W, C)`` (see ``_pad_crop``).

``cropping`` (required: Keras's defaults differ between 1-D and 2-D): an int, ``[c_h, c_w]`` (symmetric) or ``[[top, bottom], [left, right]]``; every amount >= 0, at least one cell must remain.
"""
from __future__ import annotations

from typing import Literal

from ..spec.layer import Case
from ..spec.registry import register
from ._pad_crop import Amount2D, CroppingBase


@register
class Cropping2D(CroppingBase):
    kind = "Cropping2D"
    spatial_rank = 2
    nd = 2
    type: Literal["Cropping2D"] = "Cropping2D"
    cropping: Amount2D
    """Cells removed: an int, [c_h, c_w] (symmetric) or [[top, bottom], [left, right]]; required."""

    @classmethod
    def cases(cls):
        return [
            Case({"cropping": 1}, [(5, 6, 2)], "all_1"),
            Case({"cropping": [0, 2]}, [(4, 7, 3)], "cols_only"),
            Case({"cropping": [[2, 0], [1, 3]]}, [(5, 6, 2)], "asym_4"),
        ]
