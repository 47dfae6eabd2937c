"""Masked pooling over time: average ``ReduceSum(x * m) / max(ReduceSum(m), 1)``; max ``ReduceMax``
of ``Where(m, x, -inf)``, zeros for a sample without a valid step."""
from __future__ import annotations

from ._masked_pool import _MaskedPoolX


class MaskedGlobalMaxPool1DX(_MaskedPoolX):
    kind = "MaskedGlobalMaxPool1D"
    op = "max"
