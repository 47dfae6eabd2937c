"""Masked pooling over time -> a serializable layer (Keras's GlobalAveragePooling1D(mask=) divides
by the mask sum too, but has no masked max and no zero for empty samples)."""
from ..lowering import KerasLowering
from ._masked_pool import XnnMaskedPool


class MaskedGlobalMaxPool1DK(KerasLowering):
    kind = "MaskedGlobalMaxPool1D"

    def build(self, node, ctx):
        return XnnMaskedPool("max", name=node.name, dtype=ctx.dtype)
