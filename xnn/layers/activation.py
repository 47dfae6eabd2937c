"""Activation functions, elementwise (softmax over ``axis``).

Shapes: any input -> same shape. No parameters.
``fn``: relu | leaky_relu (negative_slope, default 0.01 as PyTorch) | elu (alpha 1.0) |
gelu (exact, erf) | gelu_tanh (tanh approximation) | sigmoid | tanh | softmax (axis, default -1) |
silu | relu6 | hard_sigmoid | hard_swish. Shorthand types: ``relu``, ``ReLU``, ``softmax``... map
to ``Activation`` with that ``fn``.

The piecewise-linear ones (MobileNetV3):

- ``relu6(x) = min(max(x, 0), 6)`` (torch ``ReLU6``, Keras ``relu6``, ONNX ``Clip(0, 6)``);
- ``hard_sigmoid(x) = relu6(x + 3) / 6`` (torch ``Hardsigmoid``, Keras 3 ``hard_sigmoid``, ONNX
  ``HardSigmoid(alpha=1/6, beta=0.5)``). Keras 2's ``hard_sigmoid`` was ``clip(0.2·x + 0.5, 0, 1)``
  and ONNX ``HardSigmoid``'s default alpha is 0.2 too: those are another function, not this one;
- ``hard_swish(x) = x · relu6(x + 3) / 6`` (torch ``Hardswish``, Keras ``hard_silu``/``hard_swish``,
  ONNX ``HardSwish``, opset 14+).
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from ..spec.layer import Case, Layer, ShapeError
from ..spec.registry import alias, register

FNS = ("relu", "leaky_relu", "elu", "gelu", "gelu_tanh", "sigmoid", "tanh", "softmax", "silu", "relu6", "hard_sigmoid",
       "hard_swish")


@register
class Activation(Layer):
    kind = "Activation"
    elementwise = True
    shape_fields = ()
    type: Literal["Activation"] = "Activation"
    fn: Literal["relu", "leaky_relu", "elu", "gelu", "gelu_tanh", "sigmoid", "tanh", "softmax", "silu", "relu6",
                "hard_sigmoid", "hard_swish"]
    """The function (gelu: exact, erf; gelu_tanh: tanh approximation; hard_sigmoid: relu6(x + 3) / 6)."""
    negative_slope: float = 0.01
    """leaky_relu: slope for x < 0 (PyTorch's default 0.01; Keras's is 0.3)."""
    alpha: float = 1.0
    """elu: α in α·(exp(x) - 1) for x < 0."""
    axis: int = -1
    """softmax: the axis, counted on the batched tensor (N, *shape) like Keras; -1: the last (channels)."""

    def infer(self, in_shapes):
        (s,) = in_shapes
        rank = len(s) + 1
        ax = self.axis if self.axis < 0 else self.axis - rank
        if self.fn == "softmax" and not (-len(s) <= ax <= -1):
            raise ShapeError(f"softmax axis {self.axis} out of range for a rank-{len(s) + 1} batch", "axis")
        return s

    def forward(self, p, xs, training=False):
        x = xs[0]
        f = self.fn
        if f == "relu":
            return np.maximum(x, 0)
        if f == "leaky_relu":
            return np.where(x >= 0, x, self.negative_slope * x)
        if f == "elu":
            return np.where(x > 0, x, self.alpha * np.expm1(np.minimum(x, 0)))
        if f == "gelu":
            from scipy.special import erf  # here, not at import: keeps `xnn validate` fast

            return 0.5 * x * (1 + erf(x / np.sqrt(2)))
        if f == "gelu_tanh":
            return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
        if f == "sigmoid":
            return 1 / (1 + np.exp(-x))
        if f == "tanh":
            return np.tanh(x)
        if f == "silu":
            return x / (1 + np.exp(-x))
        if f == "relu6":
            return np.minimum(np.maximum(x, 0), 6)
        if f == "hard_sigmoid":
            return np.minimum(np.maximum(x + 3, 0), 6) / 6
        if f == "hard_swish":
            return x * np.minimum(np.maximum(x + 3, 0), 6) / 6
        if f == "softmax":
            z = x - x.max(axis=self.axis, keepdims=True)
            e = np.exp(z)
            return e / e.sum(axis=self.axis, keepdims=True)
        raise AssertionError(f)

    @classmethod
    def cases(cls):
        out = [Case({"fn": f}, [(3, 5, 2)], f) for f in FNS]
        out += [Case({"fn": "leaky_relu", "negative_slope": 0.2}, [(6,)], "leaky_relu_0.2"),
                Case({"fn": "elu", "alpha": 0.5}, [(6,)], "elu_0.5"),
                Case({"fn": "softmax", "axis": 1}, [(4, 3)], "softmax_axis1")]
        # the piecewise-linear ones again on 3 x 400 standard normal values, so that some lie past
        # their kinks at -3 and 3 (tests/parity/test_pointwise.py puts values right at -3, 0, 3, 6)
        out += [Case({"fn": f}, [(20, 20)], f"{f}_wide") for f in ("relu6", "hard_sigmoid", "hard_swish")]
        return out


for _f in FNS:
    alias(_f, "Activation", fn=_f)
for _n, _f in {"ReLU": "relu", "LeakyReLU": "leaky_relu", "ELU": "elu", "GELU": "gelu", "Sigmoid": "sigmoid",
               "Tanh": "tanh", "Softmax": "softmax", "SiLU": "silu", "ReLU6": "relu6", "Hardsigmoid": "hard_sigmoid",
               "Hardswish": "hard_swish", "hard_silu": "hard_swish"}.items():
    alias(_n, "Activation", fn=_f)
