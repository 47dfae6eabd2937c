"""ZeroPadding2D: zeros added at the ends of the spatial axes of ``(H, W, C)`` (see ``_pad_crop``).

``padding`` (default 1, Keras's): an int, ``[p_h, p_w]`` (symmetric) or ``[[top, bottom], [left, right]]``; every amount >= 0.
"""
from __future__ import annotations

from typing import Literal

from ..spec.layer import Case
from ..spec.registry import register
from ._pad_crop import Amount2D, ZeroPaddingBase


@register
class ZeroPadding2D(ZeroPaddingBase):
    kind = "ZeroPadding2D"
    spatial_rank = 2
    nd = 2
    type: Literal["ZeroPadding2D"] = "ZeroPadding2D"
    padding: Amount2D = 1
    """Zeros added: an int, [p_h, p_w] (symmetric) or [[top, bottom], [left, right]] (Keras's default 1)."""

    @classmethod
    def cases(cls):
        return [
            Case({}, [(4, 5, 2)], "default_1"),
            Case({"padding": [2, 0]}, [(3, 4, 3)], "rows_only"),
            Case({"padding": [[0, 2], [3, 1]]}, [(5, 3, 2)], "asym_4"),
        ]
