"""Per-channel normalization parameters: Scale, Offset (and TrainedMean, TrainedVariance) shaped
1x1xC for SSCB inputs, 1xC for SCB, Cx1 for CB/CBT."""
from __future__ import annotations

from ..layouts import Arrays, Context, MatLayout, channel_shape

NAMES = {"weight": "Scale", "bias": "Offset", "running_mean": "TrainedMean", "running_var": "TrainedVariance"}


class NormLayout(MatLayout):
    def to_mat(self, node, p: Arrays, ctx: Context) -> Arrays:
        shape = channel_shape(ctx.in_format(node), node.in_shapes[0][-1])
        return {NAMES[k]: v.reshape(shape) for k, v in p.items()}

    def from_mat(self, node, m: Arrays, ctx: Context) -> Arrays:
        inv = {v: k for k, v in NAMES.items()}
        return {inv[k]: v.reshape(-1) for k, v in m.items()}
