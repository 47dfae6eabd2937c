"""MaxPool1D/2D -> ``MaxPool``; AvgPool1D/2D -> ``AveragePool(count_include_pad=0)``;
GlobalAvgPool1D/2D -> ``GlobalAveragePool`` + ``Flatten`` (channels-first, explicit pads).

'same' pads are explicit and asymmetric (extra cell at the end). Average pooling excludes the
padded cells from the divisor, which is exactly ONNX's ``count_include_pad=0`` with explicit pads.
"""
from __future__ import annotations

from ._pool import _PoolX


class MaxPool2DX(_PoolX):
    kind, op = "MaxPool2D", "MaxPool"
