"""LSTM: stacked, optionally bidirectional, mask-aware (see ``_rnn`` for inputs and outputs).

Shapes: ``(T, F)`` [+ mask ``(T,)``] [+ state ``(S,)``] -> ``(T, D*units)`` | ``(D*units,)`` | ``(S,)``.
Canonical params per layer ``k`` and direction suffix ``s`` ("" or "_reverse"), gate order
i, f, g, o (PyTorch's): ``weight_ih_l{k}{s} (4H, in)``, ``weight_hh_l{k}{s} (4H, H)``,
``bias_ih_l{k}{s} (4H,)``, ``bias_hh_l{k}{s} (4H,)``: PyTorch's two biases, as they are, so a
PyTorch LSTM comes in and trains on exactly its own parameters (each bias receives the full
gradient of the pre-activation they are both added to). ONNX holds both (``B = [Wb, Rb]``);
Keras's LSTM and MATLAB's lstmLayer hold one: xnn's Keras lowering adds the two in its cell,
the .mat holds their sum (read back as ``bias_ih``, with ``bias_hh`` zero).
Init U(±1/sqrt(H)) for all (PyTorch's).
Step: ``z = W_ih x + b_ih + W_hh h + b_hh``; ``c' = σ(f) c + σ(i) tanh(g)``; ``h' = σ(o) tanh(c')``.

Weights written before xnn kept both biases hold one ``bias_l{k}{s}`` (the sum):
:func:`upgrade_params` reads it as ``bias_ih`` with a zero ``bias_hh`` (the same function).
"""
from __future__ import annotations

import re
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
        return ["bias_ih", "bias_hh"]

    def cell(self, p, key, x, state):
        h, c = state
        z = (x @ p[f"weight_ih_{key}"].T + p[f"bias_ih_{key}"]) + (h @ p[f"weight_hh_{key}"].T + p[f"bias_hh_{key}"])
        i, f, g, o = np.split(z, 4, axis=-1)
        c2 = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        return [sigmoid(o) * np.tanh(c2), c2]

    @classmethod
    def cases(cls):
        return cls.rnn_cases()


_LEGACY = re.compile(r"^(?P<node>.+)\.bias_(?P<key>l\d+(?:_reverse)?)$")


def upgrade_params(params: dict, spec) -> list[str]:
    """Weights of LSTM nodes saved with one bias per layer/direction (``<node>.bias_l{k}{s}``, the
    sum ``b_ih + b_hh``, xnn before LSTMs kept PyTorch's two biases) become ``bias_ih`` = that
    bias and ``bias_hh`` = zeros, in place: the same function; continued training then updates
    both (each with the full gradient). Returns one note per converted node (empty: nothing to do)."""
    lstm = {n.name for n in spec.nodes if n.kind == "LSTM"}
    done: dict[str, int] = {}
    for k in [k for k in params if k.rsplit(".", 1)[-1].startswith("bias_l")]:
        m = _LEGACY.match(k)
        if m is None or m["node"] not in lstm:
            continue
        ih, hh = f"{m['node']}.bias_ih_{m['key']}", f"{m['node']}.bias_hh_{m['key']}"
        if ih in params or hh in params:
            continue
        b = params.pop(k)
        params[ih], params[hh] = b, np.zeros_like(b)
        done[m["node"]] = done.get(m["node"], 0) + 1
    return [f"LSTM node {n!r}: {c} single bias(es) bias_l* (xnn's layout before LSTMs kept PyTorch's two "
            f"biases) read as bias_ih with bias_hh = 0 (the same function)" for n, c in done.items()]
