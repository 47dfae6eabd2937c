"""SpatialDropout2D: dropout of whole channels of an image ``(H, W, C)`` (see ``_spatial_dropout``):
in training each sample's channel is zeroed everywhere with probability ``rate``, survivors
scaled by ``1 / (1 - rate)``; the identity in evaluation.

Shapes: ``(H, W, C)`` -> same. No parameters. Field: ``rate`` in [0, 1), default 0.5 (PyTorch).
PyTorch ``Dropout2d`` (channels-first), Keras ``SpatialDropout2D``.
"""
from __future__ import annotations

from typing import ClassVar, Literal

from ..spec.registry import register
from ._spatial_dropout import SpatialDropoutBase


@register
class SpatialDropout2D(SpatialDropoutBase):
    kind = "SpatialDropout2D"
    dims: ClassVar[int] = 2
    spatial_rank = 2
    type: Literal["SpatialDropout2D"] = "SpatialDropout2D"
