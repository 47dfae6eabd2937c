"""Reshape on channels-last tensors (layout "cl"), to the resolved per-sample ``out_shape``."""
import torch
from torch import nn

from ..lowering import TorchLowering


class _Reshape(nn.Module):
    def __init__(self, shape: tuple[int, ...]):
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(x.shape[0], *self.shape)


class ReshapeT(TorchLowering):
    kind = "Reshape"
    layout = "cl"

    def build(self, node, ctx):
        return _Reshape(node.out_shape)
