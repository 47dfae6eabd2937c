"""BatchNorm: batchNormalizationLayer's Scale, Offset, TrainedMean, TrainedVariance (see ``_norm``)."""
from ._norm import NormLayout


class BatchNormM(NormLayout):
    kind = "BatchNorm"
