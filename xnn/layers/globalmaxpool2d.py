"""GlobalMaxPool2D: the maximum over the spatial axes, ``(H, W, C)`` -> ``(C,)`` (see _global_max_pool)."""
from __future__ import annotations

from typing import Literal

from ..spec.layer import Case
from ..spec.registry import register
from ._global_max_pool import GlobalMaxPoolBase


@register
class GlobalMaxPool2D(GlobalMaxPoolBase):
    kind = "GlobalMaxPool2D"
    spatial_rank = 2
    nd = 2
    type: Literal["GlobalMaxPool2D"] = "GlobalMaxPool2D"

    @classmethod
    def cases(cls):
        return [Case({}, [(5, 7, 3)], "rect"), Case({}, [(1, 4, 6)], "one_row")]
