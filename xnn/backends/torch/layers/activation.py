import torch
from torch import nn
from torch.nn import functional as F

from ..lowering import TorchLowering


class _Softmax(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return torch.softmax(x, dim=self.dim)


class _HardSigmoid(nn.Module):
    """``relu6(x + 3) / 6``. ``nn.Hardsigmoid``'s backward multiplies by ``1.0f / 6.0f``, a float32
    constant, so its float64 gradients are off by ~3e-8 relative; this one differentiates exactly."""

    def forward(self, x):
        return F.relu6(x + 3.0) / 6.0


class ActivationT(TorchLowering):
    kind = "Activation"
    layout = "any"

    def build(self, node, ctx):
        L = node.layer
        f = L.fn
        if f == "softmax":
            rank = len(node.out_shape) + 1
            ax = L.axis % rank
            if ctx.layout == "cf" and rank >= 3:  # channels-last axis -> channels-first axis
                ax = 1 if ax == rank - 1 else ax + 1
            return _Softmax(ax)
        return {
            "relu": lambda: nn.ReLU(),
            "leaky_relu": lambda: nn.LeakyReLU(L.negative_slope),
            "elu": lambda: nn.ELU(L.alpha),
            "gelu": lambda: nn.GELU(approximate="none"),
            "gelu_tanh": lambda: nn.GELU(approximate="tanh"),
            "sigmoid": lambda: nn.Sigmoid(),
            "tanh": lambda: nn.Tanh(),
            "silu": lambda: nn.SiLU(),
            "relu6": lambda: nn.ReLU6(),
            "hard_sigmoid": lambda: _HardSigmoid(),
            "hard_swish": lambda: nn.Hardswish(),
        }[f]()


