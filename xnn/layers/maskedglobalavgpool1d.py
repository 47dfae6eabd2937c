"""MaskedGlobalAvgPool1D / MaskedGlobalMaxPool1D: pooling over time that skips padded steps.

Shapes: ``x (T, F)`` and mask ``(T,)`` (1 = valid) -> ``(F,)``. No parameters.
Average: ``sum_t m_t x_t / max(sum_t m_t, 1)``; max: the max over valid steps. A sample with no
valid step gives zeros. (Unmasked pooling over time is ``GlobalAvgPool1D``.)
"""
from __future__ import annotations

from typing import Literal

from ..spec.layer import Case
from ..spec.registry import register
from ._masked_pool import _MaskedPool


@register
class MaskedGlobalAvgPool1D(_MaskedPool):
    kind = "MaskedGlobalAvgPool1D"
    op = "avg"
    type: Literal["MaskedGlobalAvgPool1D"] = "MaskedGlobalAvgPool1D"

    @classmethod
    def cases(cls):
        return [Case({}, [(6, 4), (6,)], "masked", input_kind="padded")]
