"""GRU -> ``keras.layers.GRU(reset_after=True)``. Gate blocks r, z, n (PyTorch) become z, r, h
(Keras): ``kernel = W_ih[p]ᵀ``, ``recurrent_kernel = W_hh[p]ᵀ``, ``bias = [b_ih[p]; b_hh[p]]``
``(2, 3H)`` with the block permutation ``p = [1, 0, 2]`` (its own inverse)."""
import numpy as np

from ._rnn import RNNLowering


def _swap_rz(a: np.ndarray) -> np.ndarray:
    """Swap the first two of three gate blocks along axis 0 (r,z,n <-> z,r,n)."""
    r, z, n = np.split(np.asarray(a), 3, axis=0)
    return np.concatenate([z, r, n], axis=0)


class GRUK(RNNLowering):
    kind = "GRU"
    cell = "gru"

    def to_native(self, node, p):
        out = []
        for k in range(node.layer.num_layers):
            for s in node.layer.suffixes():
                out += [_swap_rz(p[f"weight_ih_l{k}{s}"]).T, _swap_rz(p[f"weight_hh_l{k}{s}"]).T,
                        np.stack([_swap_rz(p[f"bias_ih_l{k}{s}"]), _swap_rz(p[f"bias_hh_l{k}{s}"])])]
        return out

    def from_native(self, node, w):
        out, it = {}, iter(w)
        for k in range(node.layer.num_layers):
            for s in node.layer.suffixes():
                out[f"weight_ih_l{k}{s}"] = _swap_rz(np.asarray(next(it)).T)
                out[f"weight_hh_l{k}{s}"] = _swap_rz(np.asarray(next(it)).T)
                b = np.asarray(next(it))
                out[f"bias_ih_l{k}{s}"], out[f"bias_hh_l{k}{s}"] = _swap_rz(b[0]), _swap_rz(b[1])
        return out
