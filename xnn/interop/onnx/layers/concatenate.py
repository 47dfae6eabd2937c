"""Add -> ``Add`` (two inputs) or ``Sum`` (more); Concatenate -> ``Concat(axis)``.

All inputs arrive in one layout (the first input's); the channels-last ``axis`` of Concatenate
is moved when the tensors run channels-first.
"""
from __future__ import annotations

from ..mapping import OnnxMapping, cl_axis_to_cf


class ConcatenateX(OnnxMapping):
    kind = "Concatenate"
    layout = "any"

    def emit(self, node, g, xs, params, layout):
        rank = len(node.out_shape) + 1
        ax = node.layer.sample_axis(rank - 1) + 1  # batched channels-last axis
        if layout == "cf":
            ax = cl_axis_to_cf(ax, rank)
        return g.op("Concat", list(xs), node.name, axis=ax)
