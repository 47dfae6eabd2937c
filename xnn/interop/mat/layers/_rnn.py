"""Recurrent weights per layer/direction key ``l0``, ``l0_reverse``...: InputWeights (G*H x in),
RecurrentWeights (G*H x H), Bias. Gate rows keep PyTorch's order, which is MATLAB's (LSTM
i,f,g,o; GRU r,z,h)."""
from __future__ import annotations

from ..layouts import MatLayout


def keys(node) -> list[str]:
    return [f"l{k}{s}" for k in range(node.layer.num_layers) for s in node.layer.suffixes()]


class RnnLayout(MatLayout):
    """Weights shared by LSTM and GRU; subclasses map the bias."""

    def to_mat(self, node, p, ctx):
        out = {}
        for key in keys(node):
            out[f"InputWeights_{key}"] = p[f"weight_ih_{key}"]
            out[f"RecurrentWeights_{key}"] = p[f"weight_hh_{key}"]
            out[f"Bias_{key}"] = self.bias_to(p, key).reshape(-1, 1)
        return out

    def from_mat(self, node, m, ctx):
        out = {}
        for key in keys(node):
            out[f"weight_ih_{key}"] = m[f"InputWeights_{key}"]
            out[f"weight_hh_{key}"] = m[f"RecurrentWeights_{key}"]
            out.update(self.bias_from(m[f"Bias_{key}"].reshape(-1), key))
        return out
