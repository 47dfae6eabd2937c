"""GRU: gruLayer weights (see ``_rnn``); Bias (6H x 1) = [bias_ih; bias_hh], MATLAB's
'recurrent-bias-after-multiplication' reset gate mode."""
import numpy as np

from ._rnn import RnnLayout


class GRUM(RnnLayout):
    kind = "GRU"

    def bias_to(self, p, key):
        return np.concatenate([p[f"bias_ih_{key}"], p[f"bias_hh_{key}"]])

    def bias_from(self, b, key):
        half = b.size // 2
        return {f"bias_ih_{key}": b[:half], f"bias_hh_{key}": b[half:]}
