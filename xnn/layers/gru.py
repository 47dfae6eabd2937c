"""GRU in PyTorch's convention: reset applied after the recurrent product, with a recurrent bias
(Keras ``reset_after=True``, ONNX ``linear_before_reset=1``, MATLAB
``'recurrent-bias-after-multiplication'``). Stacked, bidirectional, mask-aware (see ``_rnn``).

Shapes: ``(T, F)`` [+ mask ``(T,)``] [+ state ``(S,)``] -> ``(T, D*units)`` | ``(D*units,)`` | ``(S,)``.
Canonical params per layer ``k`` and direction suffix ``s``, gate order r, z, n (PyTorch's):
``weight_ih_l{k}{s} (3H, in)``, ``weight_hh_l{k}{s} (3H, H)``, ``bias_ih_l{k}{s}``,
``bias_hh_l{k}{s}`` (3H each). Init U(±1/sqrt(H)).
Step: ``r = σ(W_ir x + b_ir + W_hr h + b_hr)``, ``z`` likewise,
``n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))``, ``h' = (1 - z) n + z h``.
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from ..spec.registry import register
from ._rnn import RNNBase, sigmoid


@register
class GRU(RNNBase):
    kind = "GRU"
    gates = 3
    states = 1
    type: Literal["GRU"] = "GRU"

    def bias_names(self):
        return ["bias_ih", "bias_hh"]

    def cell(self, p, key, x, state):
        (h,) = state
        gi = x @ p[f"weight_ih_{key}"].T + p[f"bias_ih_{key}"]
        gh = h @ p[f"weight_hh_{key}"].T + p[f"bias_hh_{key}"]
        ir, iz, i_n = np.split(gi, 3, axis=-1)
        hr, hz, hn = np.split(gh, 3, axis=-1)
        r = sigmoid(ir + hr)
        z = sigmoid(iz + hz)
        n = np.tanh(i_n + r * hn)
        return [(1 - z) * n + z * h]

    @classmethod
    def cases(cls):
        return cls.rnn_cases()
