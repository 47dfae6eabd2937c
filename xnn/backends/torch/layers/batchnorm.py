"""BatchNorm: PyTorch's own ``F.batch_norm`` (unbiased running variance, momentum as xnn's), with
the channel axis 1 for channels-first tensors and last for channels-last ones, and xnn's frozen
rule: a frozen node (``trainable: false``, or both affine params with ``requires_grad=False``)
uses and keeps its running statistics in training mode too, as Keras's ``trainable=False`` does.
"""
import torch
from torch import nn
from torch.nn import functional as F

from ..lowering import TorchLowering


class XBatchNorm(nn.Module):
    """Per-channel batch normalization; params/buffers are named like the canonical ones."""

    def __init__(self, channels: int, eps: float, momentum: float, channel_last: bool, frozen: bool):
        super().__init__()
        self.eps, self.momentum, self.channel_last = eps, momentum, channel_last
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))
        if frozen:
            self.weight.requires_grad_(False)
            self.bias.requires_grad_(False)

    @property
    def frozen(self) -> bool:
        return not (self.weight.requires_grad or self.bias.requires_grad)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        move = self.channel_last and x.dim() >= 3
        if move:
            x = x.movedim(x.dim() - 1, 1)  # not -1: torch.onnx writes a negative perm ORT refuses
        y = F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                         training=self.training and not self.frozen, momentum=self.momentum, eps=self.eps)
        return y.movedim(1, y.dim() - 1) if move else y

    def extra_repr(self) -> str:
        return f"{self.weight.numel()}, eps={self.eps}, momentum={self.momentum}, channel_last={self.channel_last}"


class BatchNormT(TorchLowering):
    kind = "BatchNorm"
    layout = "any"

    def build(self, node, ctx):
        L = node.layer
        return XBatchNorm(node.in_shapes[0][-1], L.eps, L.momentum, ctx.layout == "cl", not L.trainable)
