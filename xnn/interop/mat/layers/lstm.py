"""LSTM: lstmLayer weights (see ``_rnn``). MATLAB's lstmLayer has one Bias (4H x 1): the .mat
holds ``bias_ih + bias_hh`` (the same function; it is all ``lstmLayer`` and the plain-M forward
add), and a .mat read back gives ``bias_ih`` = Bias, ``bias_hh`` = 0 (how the sum was split is
not in the file: continued training then starts from that split)."""
import numpy as np

from ._rnn import RnnLayout


class LSTMM(RnnLayout):
    kind = "LSTM"

    def bias_to(self, p, key):
        return p[f"bias_ih_{key}"] + p[f"bias_hh_{key}"]

    def bias_from(self, b, key):
        return {f"bias_ih_{key}": b, f"bias_hh_{key}": np.zeros_like(b)}

    def notes(self, node, ctx):
        return {"bias": "Bias_<key> = bias_ih + bias_hh (lstmLayer holds one bias); read back into xnn "
                        "as bias_ih = Bias, bias_hh = 0"}
