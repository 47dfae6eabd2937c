"""GlobalAvgPool1D and GlobalAvgPool2D: the mean over all spatial axes (channels-last).

Shapes: 1D ``(L, C)`` -> ``(C,)``; 2D ``(H, W, C)`` -> ``(C,)``. No parameters, no fields.
Keras ``GlobalAveragePooling*D(keepdims=False)``; torch ``mean`` over the spatial dims (not
``AdaptiveAvgPool``, which keeps singleton axes).
"""
from __future__ import annotations

from typing import Literal

from ..spec.layer import Case
from ..spec.registry import register
from ._global_avg_pool import GlobalAvgPoolBase


@register
class GlobalAvgPool2D(GlobalAvgPoolBase):
    kind = "GlobalAvgPool2D"
    spatial_rank = 2
    nd = 2
    type: Literal["GlobalAvgPool2D"] = "GlobalAvgPool2D"

    @classmethod
    def cases(cls):
        return [Case({}, [(5, 7, 3)], "rect"), Case({}, [(1, 4, 6)], "one_row")]
