"""UpSampling2D: nearest as a repeat, bilinear through ``F.interpolate`` (see ``_upsampling``)."""
from ._upsampling import _UpSamplingT


class UpSampling2DT(_UpSamplingT):
    kind = "UpSampling2D"
