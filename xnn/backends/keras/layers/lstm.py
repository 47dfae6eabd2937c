"""LSTM -> ``keras.layers.LSTM`` with a two-bias cell (``_rnn.DualBiasLSTMCell``): Keras's
gate order i, f, c, o is PyTorch's i, f, g, o; ``kernel = W_ihᵀ``, ``recurrent_kernel = W_hhᵀ``,
and the cell's ``bias_ih``, ``bias_hh`` are the canonical ones (Keras's own LSTM holds one bias:
the cell adds the two, so each is trained with the full gradient, as in PyTorch)."""
import numpy as np

from ._rnn import RNNLowering


class LSTMK(RNNLowering):
    kind = "LSTM"
    cell = "lstm"

    def to_native(self, node, p):
        out = []
        for k in range(node.layer.num_layers):
            for s in node.layer.suffixes():
                out += [p[f"weight_ih_l{k}{s}"].T, p[f"weight_hh_l{k}{s}"].T, p[f"bias_ih_l{k}{s}"],
                        p[f"bias_hh_l{k}{s}"]]
        return out

    def from_native(self, node, w):
        out, it = {}, iter(w)
        for k in range(node.layer.num_layers):
            for s in node.layer.suffixes():
                out[f"weight_ih_l{k}{s}"] = np.asarray(next(it)).T
                out[f"weight_hh_l{k}{s}"] = np.asarray(next(it)).T
                out[f"bias_ih_l{k}{s}"] = np.asarray(next(it))
                out[f"bias_hh_l{k}{s}"] = np.asarray(next(it))
        return out
