"""UpSampling2D: ``(H, W, C)`` -> ``(H*s_h, W*s_w, C)``, ``interpolation`` nearest | bilinear
(half-pixel centres); see ``_upsampling`` for the exact formulas."""
from __future__ import annotations

from typing import Literal

from ..spec.layer import Case
from ..spec.registry import register
from ._upsampling import UpSamplingBase


@register
class UpSampling2D(UpSamplingBase):
    kind = "UpSampling2D"
    spatial_rank = 2
    nd = 2
    type: Literal["UpSampling2D"] = "UpSampling2D"
    interpolation: Literal["nearest", "bilinear"] = "nearest"
    """nearest (a repeat) or bilinear (half-pixel centres: torch's align_corners=False, TF2's resize)."""

    @classmethod
    def cases(cls):
        return [
            Case({}, [(3, 4, 2)], "nearest_2"),
            Case({"size": [3, 2]}, [(2, 5, 3)], "nearest_rect"),
            Case({"interpolation": "bilinear"}, [(4, 3, 2)], "bilinear_2"),
            Case({"size": [3, 5], "interpolation": "bilinear"}, [(3, 4, 2)], "bilinear_3x5"),
            Case({"size": [1, 4], "interpolation": "bilinear"}, [(1, 5, 2)], "bilinear_one_row"),
        ]
