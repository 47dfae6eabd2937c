"""ZeroPadding1D: zeros added at the ends of the spatial axes of ``(L, C)`` (see ``_pad_crop``).

``padding`` (default 1, Keras's): an int or ``[left, right]``; every amount >= 0.
"""
from __future__ import annotations

from typing import Literal

from ..spec.layer import Case
from ..spec.registry import register
from ._pad_crop import Amount1D, ZeroPaddingBase


@register
class ZeroPadding1D(ZeroPaddingBase):
    kind = "ZeroPadding1D"
    spatial_rank = 1
    nd = 1
    type: Literal["ZeroPadding1D"] = "ZeroPadding1D"
    padding: Amount1D = 1
    """Zeros added: an int (both ends) or [left, right] (Keras's default 1)."""

    @classmethod
    def cases(cls):
        return [
            Case({}, [(5, 3)], "default_1"),
            Case({"padding": [0, 3]}, [(4, 2)], "right_only"),
            Case({"padding": [2, 1]}, [(1, 3)], "asym_one_step"),
        ]
