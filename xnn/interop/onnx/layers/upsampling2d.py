"""UpSampling2D -> ``Resize`` (see ``_upsampling``)."""
from __future__ import annotations

from ._upsampling import _UpSamplingX


class UpSampling2DX(_UpSamplingX):
    kind = "UpSampling2D"
