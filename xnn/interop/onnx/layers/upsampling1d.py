"""UpSampling1D -> ``Resize`` (see ``_upsampling``)."""
from __future__ import annotations

from ._upsampling import _UpSamplingX


class UpSampling1DX(_UpSamplingX):
    kind = "UpSampling1D"
