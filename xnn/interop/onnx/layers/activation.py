"""Activation -> the ONNX op of the same name; exact decompositions where the opset lacks it.

gelu: ``Gelu`` (opset >= 20) else ``0.5·x·(1+Erf(x/√2))``; gelu_tanh: ``Gelu(approximate=tanh)``
(>= 20) else its tanh formula; silu: ``x·Sigmoid(x)``; softmax: ``Softmax(axis)`` (opset >= 13
semantics), the axis moved when the tensor runs channels-first.

relu6: ``Clip(x, 0, 6)`` (min/max as inputs, opset >= 11). hard_sigmoid: ``HardSigmoid(alpha=1/6,
beta=0.5)`` (ONNX's default alpha 0.2 is Keras 2's function, so both are written); hard_swish:
``HardSwish`` (opset >= 14), ``x·HardSigmoid(x)`` at 13. ONNX float attributes are float32, so
alpha = 1/6 is rounded: a float64 export writes the exact ``Clip(x + 3, 0, 6) / 6`` instead
(which the importer does not fold back into one layer).
"""
from __future__ import annotations

import math

import numpy as np

from ..mapping import OnnxMapping, cl_axis_to_cf


class ActivationX(OnnxMapping):
    kind = "Activation"
    layout = "any"

    def emit(self, node, g, xs, params, layout):
        L, x, n = node.layer, xs[0], node.name
        f = L.fn
        simple = {"relu": "Relu", "sigmoid": "Sigmoid", "tanh": "Tanh"}
        if f in simple:
            return g.op(simple[f], [x], n)
        if f == "leaky_relu":
            return g.op("LeakyRelu", [x], n, alpha=float(L.negative_slope))
        if f == "elu":
            return g.op("Elu", [x], n, alpha=float(L.alpha))
        if f == "silu":
            return g.op("Mul", [x, g.op("Sigmoid", [x], f"{n}_sigmoid")], n)
        if f == "relu6":
            return g.op("Clip", [x, g.scalar(f"{n}.min", 0.0), g.scalar(f"{n}.max", 6.0)], n)
        if f in ("hard_sigmoid", "hard_swish"):
            exact = g.dtype != np.float32  # alpha = 1/6 as a float32 attribute is not 1/6 in float64
            if f == "hard_swish" and g.opset >= 14 and not exact:
                return g.op("HardSwish", [x], n)
            hs_name = n if f == "hard_sigmoid" else f"{n}_hard_sigmoid"
            if exact:
                shifted = g.op("Add", [x, g.scalar(f"{n}.three", 3.0)], f"{n}_plus3")
                clipped = g.op("Clip", [shifted, g.scalar(f"{n}.min", 0.0), g.scalar(f"{n}.max", 6.0)], f"{n}_relu6")
                hs = g.op("Div", [clipped, g.scalar(f"{n}.six", 6.0)], hs_name)
            else:
                hs = g.op("HardSigmoid", [x], hs_name, alpha=1.0 / 6.0, beta=0.5)
            return hs if f == "hard_sigmoid" else g.op("Mul", [x, hs], n)
        if f == "softmax":
            rank = len(node.out_shape) + 1
            ax = cl_axis_to_cf(L.axis, rank) if layout == "cf" else L.axis % rank
            return g.op("Softmax", [x], n, axis=ax)
        if f == "gelu":
            if g.opset >= 20:
                return g.op("Gelu", [x], n)
            e = g.op("Erf", [g.op("Div", [x, g.scalar(f"{n}.sqrt2", math.sqrt(2.0))], f"{n}_div")], f"{n}_erf")
            return _half_x_one_plus(g, x, e, n)
        if f == "gelu_tanh":
            if g.opset >= 20:
                return g.op("Gelu", [x], n, approximate="tanh")
            x3 = g.op("Mul", [g.op("Mul", [x, x], f"{n}_x2"), x], f"{n}_x3")
            inner = g.op("Add", [x, g.op("Mul", [x3, g.scalar(f"{n}.c", 0.044715)], f"{n}_cx3")], f"{n}_inner")
            t = g.op("Tanh", [g.op("Mul", [inner, g.scalar(f"{n}.k", math.sqrt(2.0 / math.pi))], f"{n}_scaled")],
                     f"{n}_tanh")
            return _half_x_one_plus(g, x, t, n)
        raise AssertionError(f)


def _half_x_one_plus(g, x, t, n):
    """0.5 · x · (1 + t)."""
    one_plus = g.op("Add", [t, g.scalar(f"{n}.one", 1.0)], f"{n}_1p")
    return g.op("Mul", [g.op("Mul", [x, g.scalar(f"{n}.half", 0.5)], f"{n}_half_x"), one_plus], n)
