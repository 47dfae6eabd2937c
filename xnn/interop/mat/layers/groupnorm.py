"""GroupNorm: groupNormalizationLayer's (instanceNormalizationLayer's) Scale, Offset, per channel
(see ``_norm``); none when ``affine`` is false."""
from ._norm import NormLayout


class GroupNormM(NormLayout):
    kind = "GroupNorm"
