"""UpSampling1D: each step repeated ``size`` times (``repeat_interleave``, any layout)."""
from ._upsampling import _UpSamplingT


class UpSampling1DT(_UpSamplingT):
    kind = "UpSampling1D"
    layout = "any"
