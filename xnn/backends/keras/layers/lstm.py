"""LSTM -> ``keras.layers.LSTM``. Keras's gate order i, f, c, o is PyTorch's i, f, g, o and its
single bias is xnn's canonical ``bias``: ``kernel = W_ihᵀ``, ``recurrent_kernel = W_hhᵀ``."""
import numpy as np

from ._rnn import RNNLowering


class LSTMK(RNNLowering):
    kind = "LSTM"
    cell = "lstm"

    def to_native(self, node, p):
        out = []
        for k in range(node.layer.num_layers):
            for s in node.layer.suffixes():
                out += [p[f"weight_ih_l{k}{s}"].T, p[f"weight_hh_l{k}{s}"].T, p[f"bias_l{k}{s}"]]
        return out

    def from_native(self, node, w):
        out, it = {}, iter(w)
        for k in range(node.layer.num_layers):
            for s in node.layer.suffixes():
                out[f"weight_ih_l{k}{s}"] = np.asarray(next(it)).T
                out[f"weight_hh_l{k}{s}"] = np.asarray(next(it)).T
                out[f"bias_l{k}{s}"] = np.asarray(next(it))
        return out
