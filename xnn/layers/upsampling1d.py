"""UpSampling1D: ``(L, C)`` -> ``(L*s, C)``, each step repeated ``size`` times (nearest, Keras's
``UpSampling1D``); see ``_upsampling``."""
from __future__ import annotations

from typing import Literal

from ..spec.layer import Case
from ..spec.registry import register
from ._upsampling import UpSamplingBase


@register
class UpSampling1D(UpSamplingBase):
    kind = "UpSampling1D"
    spatial_rank = 1
    nd = 1
    type: Literal["UpSampling1D"] = "UpSampling1D"

    @classmethod
    def cases(cls):
        return [Case({}, [(5, 3)], "x2"), Case({"size": 3}, [(1, 2)], "x3_one_step")]
