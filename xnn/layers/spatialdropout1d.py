"""SpatialDropout1D: dropout of whole channels of a signal or sequence ``(L, C)`` (see
``_spatial_dropout``): in training each sample's channel is zeroed on every step with probability
``rate``, survivors scaled by ``1 / (1 - rate)``; the identity in evaluation.

Shapes: ``(L, C)`` -> same. No parameters. Field: ``rate`` in [0, 1), default 0.5 (PyTorch).
PyTorch ``Dropout1d`` (channels-first), Keras ``SpatialDropout1D``. ``spatial_rank`` stays 0: the
layer reads no spatial structure, so it does not make a rank-2 input a signal rather than a
sequence (Keras uses it on embedded sequences too).
"""
from __future__ import annotations

from typing import ClassVar, Literal

from ..spec.registry import register
from ._spatial_dropout import SpatialDropoutBase


@register
class SpatialDropout1D(SpatialDropoutBase):
    kind = "SpatialDropout1D"
    dims: ClassVar[int] = 1
    type: Literal["SpatialDropout1D"] = "SpatialDropout1D"
