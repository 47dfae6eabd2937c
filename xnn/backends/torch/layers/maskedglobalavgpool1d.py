"""Masked pooling over time: x ``(N, T, F)``, mask ``(N, T)`` -> ``(N, F)``."""
from ..lowering import TorchLowering
from ._masked_pool import XMaskedPool


class MaskedGlobalAvgPool1DT(TorchLowering):
    kind = "MaskedGlobalAvgPool1D"
    layout = "cl"

    def build(self, node, ctx):
        return XMaskedPool("avg")
