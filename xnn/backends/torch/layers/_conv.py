"""Conv1D/Conv2D on channels-first tensors; TF-style 'same' (asymmetric) via an explicit pad."""
from torch import nn
from torch.nn import functional as F

from ..lowering import TorchLowering


def _torch_pads(pads):
    # F.pad wants (last_lo, last_hi, prev_lo, prev_hi, ...)
    out = []
    for lo, hi in reversed(pads):
        out += [lo, hi]
    return out


class _PaddedConv:
    def _setup(self, pads):
        sym = all(lo == hi for lo, hi in pads)
        self._sym = sym
        self._fpad = None if sym else _torch_pads(pads)
        return tuple(lo for lo, _ in pads) if sym else 0

    def forward(self, x):
        if self._fpad is not None:
            x = F.pad(x, self._fpad)
        return super().forward(x)


class XConv2d(_PaddedConv, nn.Conv2d):
    def __init__(self, cin, L, k, s, d, pads):
        nn.Conv2d.__init__(self, cin, L.filters, k, s, 0, d, L.groups, L.use_bias)
        self.padding = self._setup(pads) or (0, 0)


class XConv1d(_PaddedConv, nn.Conv1d):
    def __init__(self, cin, L, k, s, d, pads):
        nn.Conv1d.__init__(self, cin, L.filters, k, s, 0, d, L.groups, L.use_bias)
        self.padding = self._setup(pads) or (0,)


class _ConvT(TorchLowering):
    layout = "cf"
    cls = None

    def build(self, node, ctx):
        L = node.layer
        k, s, d, pads = L.geometry(node.in_shapes[0])
        return self.cls(node.in_shapes[0][-1], L, k, s, d, pads)
