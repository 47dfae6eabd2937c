"""Shared Keras lowering of LSTM/GRU: native ``keras.layers.LSTM``/``GRU`` (wrapped in
``Bidirectional`` when needed) stacked inside one serializable layer named after the node, so the
node owns its weights. Masks are passed explicitly as ``mask=``; the output carries no Keras mask
(xnn never propagates masks implicitly)."""
from __future__ import annotations

import keras
from keras import ops

from ..lowering import KerasLowering


@keras.saving.register_keras_serializable(package="xnn")
class XnnRNN(keras.layers.Layer):
    """Stacked (bi)directional LSTM/GRU per xnn's RNN contract (``xnn/layers/_rnn.py``).

    Inputs: ``[x (N, T, F), mask (N, T)?, state (N, S)?]``. Weights, per layer then direction:
    kernel, recurrent_kernel, bias (Keras layouts).
    """

    def __init__(self, cell: str, units: int, num_layers: int = 1, bidirectional: bool = False,
                 merge: str = "concat", dropout: float = 0.0, output: str = "sequences",
                 has_mask: bool = False, has_state: bool = False, **kw):
        super().__init__(**kw)
        self.cfg = dict(cell=cell, units=units, num_layers=num_layers, bidirectional=bidirectional, merge=merge,
                        dropout=dropout, output=output, has_mask=has_mask, has_state=has_state)
        cls = keras.layers.LSTM if cell == "lstm" else keras.layers.GRU
        extra = {"reset_after": True} if cell == "gru" else {"unit_forget_bias": False}
        self.rnns = []
        self.drops = []
        for k in range(num_layers):
            last = k == num_layers - 1
            seq = not last or output == "sequences"
            base = cls(units, return_sequences=seq, return_state=output == "state", zero_output_for_mask=seq,
                       dtype=self.dtype_policy, name=f"l{k}", **extra)
            if bidirectional:
                # between layers directions are concatenated (PyTorch's rule); merge is for the output
                base = keras.layers.Bidirectional(base, merge_mode=merge if last else "concat",
                                                  dtype=self.dtype_policy, name=f"bi{k}")
            self.rnns.append(base)
            if not last:
                self.drops.append(keras.layers.Dropout(dropout, dtype=self.dtype_policy, name=f"drop{k}"))
        self.n_states = 2 if cell == "lstm" else 1

    def call(self, inputs, training=None):
        c = self.cfg
        x = inputs[0]
        mask = ops.greater(inputs[1], 0.5) if c["has_mask"] else None
        dirs = 2 if c["bidirectional"] else 1
        k_, h = self.n_states, c["units"]
        init = inputs[-1] if c["has_state"] else None
        finals = []
        for k, rnn in enumerate(self.rnns):
            kw = {}
            if init is not None:
                per = dirs * k_ * h  # the (direction, [h, c]) blocks of layer k, in Keras's order
                blk = init[:, k * per:(k + 1) * per]
                kw["initial_state"] = [blk[:, j * h:(j + 1) * h] for j in range(dirs * k_)]
            y = rnn(x, mask=mask, training=training, **kw)
            if c["output"] == "state":
                y, states = y[0], list(y[1:])
                finals.extend(states)
            x = self.drops[k](y, training=training) if k < len(self.drops) else y
        if c["output"] == "state":
            x = ops.concatenate(finals, axis=-1)
        if mask is not None:
            m = ops.cast(mask, x.dtype)
            # padded steps are zeros; a sample with no valid step outputs zeros
            x = x * m[:, :, None] if c["output"] == "sequences" else x * ops.max(m, axis=1, keepdims=True)
        return x

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        return {**super().get_config(), **self.cfg}


class RNNLowering(KerasLowering):
    """Shared by the LSTM and GRU lowerings: one :class:`XnnRNN` per node, fed the node's inputs."""

    cell = ""

    def build(self, node, ctx):
        L = node.layer
        has_mask, has_state = L.roles(len(node.inputs))
        return XnnRNN(self.cell, L.units, L.num_layers, L.bidirectional, L.merge, L.dropout, L.output,
                      has_mask, has_state, name=node.name, dtype=ctx.dtype)

    def apply(self, layer, xs, node, ctx):
        return layer(xs)
