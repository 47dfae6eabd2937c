"""LSTM: stacked, optionally bidirectional, mask-aware (see ``_rnn`` for inputs and outputs).

Shapes: ``(T, F)`` [+ mask ``(T,)``] [+ state ``(S,)``] -> ``(T, D*units)`` | ``(D*units,)`` | ``(S,)``.
Canonical params per layer ``k`` and direction suffix ``s`` ("" or "_reverse"), gate order
i, f, g, o (PyTorch's): ``weight_ih_l{k}{s} (4H, in)``, ``weight_hh_l{k}{s} (4H, H)``,
``bias_l{k}{s} (4H,)``. One bias, not PyTorch's two: it is the sum ``b_ih + b_hh``, which is all
Keras, ONNX (B = [bias, 0]) and MATLAB can hold, so every path trains the same parameters.
Init U(±1/sqrt(H)) for all (PyTorch's).
Step: ``z = W_ih x + W_hh h + b``; ``c' = σ(f) c + σ(i) tanh(g)``; ``h' = σ(o) tanh(c')``.
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from ..spec.registry import register
from ._rnn import RNNBase, sigmoid


@register
class LSTM(RNNBase):
    kind = "LSTM"
    gates = 4
    states = 2
    type: Literal["LSTM"] = "LSTM"

    def bias_names(self):
        return ["bias"]

    def cell(self, p, key, x, state):
        h, c = state
        z = x @ p[f"weight_ih_{key}"].T + h @ p[f"weight_hh_{key}"].T + p[f"bias_{key}"]
        i, f, g, o = np.split(z, 4, axis=-1)
        c2 = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        return [sigmoid(o) * np.tanh(c2), c2]

    @classmethod
    def cases(cls):
        return cls.rnn_cases()
