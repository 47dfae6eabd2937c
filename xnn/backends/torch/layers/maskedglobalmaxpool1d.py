"""Masked pooling over time: x ``(N, T, F)``, mask ``(N, T)`` -> ``(N, F)``."""
from ..lowering import TorchLowering
from ._masked_pool import XMaskedPool


class MaskedGlobalMaxPool1DT(TorchLowering):
    kind = "MaskedGlobalMaxPool1D"
    layout = "cl"

    def build(self, node, ctx):
        return XMaskedPool("max")
