"""Masked pooling over time -> a serializable layer (Keras's GlobalAveragePooling1D(mask=) divides
by the mask sum too, but has no masked max and no zero for empty samples)."""
from ..lowering import KerasLowering
from ._masked_pool import XnnMaskedPool


class MaskedGlobalAvgPool1DK(KerasLowering):
    kind = "MaskedGlobalAvgPool1D"

    def build(self, node, ctx):
        return XnnMaskedPool("avg", name=node.name, dtype=ctx.dtype)
