"""Shared Keras lowering of LSTM/GRU: native ``keras.layers.LSTM``/``GRU`` (wrapped in
``Bidirectional`` when needed) stacked inside one serializable layer named after the node, so the
node owns its weights. Masks are passed explicitly as ``mask=``; the output carries no Keras mask
(xnn never propagates masks implicitly)."""
from __future__ import annotations

import keras
from keras import ops

from ..lowering import KerasLowering


class DualBiasLSTMCell(keras.layers.LSTMCell):
    """Keras's LSTMCell holding PyTorch's two biases ``bias_ih``, ``bias_hh`` (xnn's canonical
    LSTM) instead of one: ``bias`` (what ``LSTMCell.call`` and the fused kernels add) is their
    sum, so each receives the full gradient of the pre-activation, as in PyTorch. Weights:
    kernel, recurrent_kernel, bias_ih, bias_hh."""

    def build(self, input_shape):
        keras.layers.Layer.build(self, input_shape)
        g = self.units * 4
        self.kernel = self.add_weight(shape=(input_shape[-1], g), name="kernel", initializer=self.kernel_initializer)
        self.recurrent_kernel = self.add_weight(shape=(self.units, g), name="recurrent_kernel",
                                                initializer=self.recurrent_initializer)
        self.bias_ih = self.add_weight(shape=(g,), name="bias_ih", initializer=self.bias_initializer)
        self.bias_hh = self.add_weight(shape=(g,), name="bias_hh", initializer=self.bias_initializer)

    @property
    def bias(self):
        return ops.add(self.bias_ih, self.bias_hh)


_CELL_KEYS = ("activation", "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
              "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
              "bias_regularizer", "kernel_constraint", "recurrent_constraint", "bias_constraint", "dropout",
              "recurrent_dropout", "seed", "implementation")


@keras.saving.register_keras_serializable(package="xnn")
class XnnLSTM(keras.layers.LSTM):
    """``keras.layers.LSTM`` whose cell is a :class:`DualBiasLSTMCell`: LSTM's own config,
    ``get_config`` and call path (including Keras's fused kernel where it applies); only the
    cell differs, so ``__init__`` does what ``LSTM.__init__`` does with that cell."""

    def __init__(self, units, use_cudnn="auto", **kw):
        cell_kw = {k: kw.pop(k) for k in _CELL_KEYS if k in kw}
        cell = DualBiasLSTMCell(units, dtype=kw.get("dtype"), trainable=kw.get("trainable", True),
                                name="lstm_cell", **cell_kw)
        keras.layers.RNN.__init__(self, cell, **kw)
        self.input_spec = keras.layers.InputSpec(ndim=3)
        self.use_cudnn = use_cudnn


@keras.saving.register_keras_serializable(package="xnn")
class XnnRNN(keras.layers.Layer):
    """Stacked (bi)directional LSTM/GRU per xnn's RNN contract (``xnn/layers/_rnn.py``).

    Inputs: ``[x (N, T, F), mask (N, T)?, state (N, S)?]``. Weights, per layer then direction:
    kernel, recurrent_kernel, bias (Keras layouts); LSTM: kernel, recurrent_kernel, bias_ih,
    bias_hh (:class:`DualBiasLSTMCell`).
    """

    def __init__(self, cell: str, units: int, num_layers: int = 1, bidirectional: bool = False,
                 merge: str = "concat", dropout: float = 0.0, output: str = "sequences",
                 has_mask: bool = False, has_state: bool = False, **kw):
        super().__init__(**kw)
        self.cfg = dict(cell=cell, units=units, num_layers=num_layers, bidirectional=bidirectional, merge=merge,
                        dropout=dropout, output=output, has_mask=has_mask, has_state=has_state)
        cls = XnnLSTM if cell == "lstm" else keras.layers.GRU
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
