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
class GlobalAvgPool1D(GlobalAvgPoolBase):
    kind = "GlobalAvgPool1D"
    spatial_rank = 1
    nd = 1
    type: Literal["GlobalAvgPool1D"] = "GlobalAvgPool1D"

    @classmethod
    def cases(cls):
        return [Case({}, [(9, 4)], "odd_length")]
