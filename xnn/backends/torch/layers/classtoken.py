"""ClassToken: ``cat([token.expand(N, 1, D), x], dim=1)``; the parameter ``token (D,)`` is canonical."""
import torch
from torch import nn

from ..lowering import TorchLowering


class XClassToken(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.token = nn.Parameter(torch.zeros(width))

    def forward(self, x):
        return torch.cat([self.token.to(x.dtype).expand(x.shape[0], 1, -1), x], dim=1)


class ClassTokenT(TorchLowering):
    kind = "ClassToken"
    layout = "cl"

    def build(self, node, ctx):
        return XClassToken(node.in_shapes[0][-1])
