"""LayerNorm: layerNormalizationLayer's Scale, Offset (see ``_norm``)."""
from ._norm import NormLayout


class LayerNormM(NormLayout):
    kind = "LayerNorm"
