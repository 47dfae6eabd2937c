"""LSTM: lstmLayer weights (see ``_rnn``); Bias (4H x 1) is xnn's single bias."""
from ._rnn import RnnLayout


class LSTMM(RnnLayout):
    kind = "LSTM"

    def bias_to(self, p, key):
        return p[f"bias_{key}"]

    def bias_from(self, b, key):
        return {f"bias_{key}": b}
