"""MultiHeadAttention: selfAttentionLayer names; weights keep the Dense layout (out x in), head h
owns a contiguous block of rows (MATLAB's too); biases are columns."""
from __future__ import annotations

from ..layouts import Arrays, Context, MatLayout

NAMES = {"q_weight": "QueryWeights", "k_weight": "KeyWeights", "v_weight": "ValueWeights",
         "out_weight": "OutputWeights", "q_bias": "QueryBias", "k_bias": "KeyBias", "v_bias": "ValueBias",
         "out_bias": "OutputBias"}


class MultiHeadAttentionM(MatLayout):
    kind = "MultiHeadAttention"

    def to_mat(self, node, p: Arrays, ctx: Context) -> Arrays:
        return {NAMES[k]: (v.reshape(-1, 1) if v.ndim == 1 else v) for k, v in p.items()}

    def from_mat(self, node, m: Arrays, ctx: Context) -> Arrays:
        inv = {v: k for k, v in NAMES.items()}
        return {inv[k]: (v.reshape(-1) if k.endswith("Bias") else v) for k, v in m.items()}
