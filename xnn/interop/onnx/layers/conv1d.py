"""Conv1D/Conv2D -> ``Conv`` (channels-first) with explicit, possibly asymmetric, pads.

'same' pads are resolved from the spec's static shapes (TF rule, extra cell at the end), so no
``auto_pad`` is needed; weights are canonical ``(O, C/groups, *k)``, as ONNX wants them.
"""
from __future__ import annotations

from ._conv import _ConvX


class Conv1DX(_ConvX):
    kind = "Conv1D"
