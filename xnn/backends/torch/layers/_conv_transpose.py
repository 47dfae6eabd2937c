"""ConvTranspose1D/2D on channels-first tensors (``nn.ConvTranspose1d/2d``; parameters ``weight``
``(C, F/groups, *k)`` and ``bias``, the canonical layout).

xnn's output is the full transposed convolution with ``(lo, hi)`` cells cut per axis (see
``xnn/layers/_conv_transpose.py``). torch's ``padding=lo, output_padding=lo - hi`` says exactly
that when ``0 <= lo - hi < max(stride, dilation)``: valid, explicit, and 'same' with an even
total or a stride above the kernel. 'same' with an odd total cuts one more cell at the end than
at the start, which torch's symmetric ``padding`` cannot: there the module runs with
``padding=0``, cuts with ``F.pad`` (negative pads) and adds the bias afterwards.
"""
from torch import nn
from torch.nn import functional as F

from ..lowering import TorchLowering


def _native(k, s, d, cut):
    """torch ``(padding, output_padding)`` for the cut, or None when torch cannot say it."""
    pads, outs = [], []
    for i, (lo, hi) in enumerate(cut):
        op = lo - hi
        if lo < 0 or not 0 <= op < max(s[i], d[i]):
            return None
        pads.append(lo)
        outs.append(op)
    return tuple(pads), tuple(outs)


class _CutConvTranspose:
    def _setup(self, k, s, d, cut):
        nat = _native(k, s, d, cut)
        if nat is not None:
            self.padding, self.output_padding = nat
            self._fpad = None
        else:
            self.padding, self.output_padding = (0,) * len(k), (0,) * len(k)
            self._fpad = []
            for lo, hi in reversed(cut):  # F.pad: last axis first; negative = cut
                self._fpad += [-lo, -hi]

    def forward(self, x):
        if self._fpad is None:
            return super().forward(x)
        y = self._conv(x, self.weight, None, self.stride, self.padding, self.output_padding, self.groups,
                       self.dilation)
        y = F.pad(y, self._fpad)
        if self.bias is not None:
            y = y + self.bias.view(1, -1, *([1] * (y.dim() - 2)))
        return y


class XConvTranspose2d(_CutConvTranspose, nn.ConvTranspose2d):
    _conv = staticmethod(F.conv_transpose2d)

    def __init__(self, cin, L, k, s, d, cut):
        nn.ConvTranspose2d.__init__(self, cin, L.filters, k, s, 0, 0, L.groups, L.use_bias, d)
        self._setup(k, s, d, cut)


class XConvTranspose1d(_CutConvTranspose, nn.ConvTranspose1d):
    _conv = staticmethod(F.conv_transpose1d)

    def __init__(self, cin, L, k, s, d, cut):
        nn.ConvTranspose1d.__init__(self, cin, L.filters, k, s, 0, 0, L.groups, L.use_bias, d)
        self._setup(k, s, d, cut)


class _ConvTransposeT(TorchLowering):
    layout = "cf"
    cls = None

    def build(self, node, ctx):
        L = node.layer
        k, s, d, _, cut = L.geometry(node.in_shapes[0])
        return self.cls(node.in_shapes[0][-1], L, k, s, d, cut)
