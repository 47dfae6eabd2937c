"""GlobalMaxPool1D: the maximum over the spatial axes, ``(L, C)`` -> ``(C,)`` (see _global_max_pool)."""
from __future__ import annotations

from typing import Literal

from ..spec.layer import Case
from ..spec.registry import register
from ._global_max_pool import GlobalMaxPoolBase


@register
class GlobalMaxPool1D(GlobalMaxPoolBase):
    kind = "GlobalMaxPool1D"
    spatial_rank = 1
    nd = 1
    type: Literal["GlobalMaxPool1D"] = "GlobalMaxPool1D"

    @classmethod
    def cases(cls):
        return [Case({}, [(9, 4)], "odd_length"), Case({}, [(1, 3)], "one_step")]
