"""Add -> ``Add`` (two inputs) or ``Sum`` (more); Concatenate -> ``Concat(axis)``.

All inputs arrive in one layout (the first input's); the channels-last ``axis`` of Concatenate
is moved when the tensors run channels-first.
"""
from __future__ import annotations

from ..mapping import OnnxMapping


class AddX(OnnxMapping):
    kind = "Add"
    layout = "any"

    def emit(self, node, g, xs, params, layout):
        return g.op("Add" if len(xs) == 2 else "Sum", list(xs), node.name)
