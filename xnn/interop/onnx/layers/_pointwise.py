"""Shared by Multiply and Subtract: ONNX ``Mul``/``Sub`` broadcast the batch axis too, so an input
of a lower per-sample rank first gets unit axes (``Unsqueeze``) right after the batch axis
(channels-last) or right after the channel axis (channels-first), as the torch lowering does."""
from __future__ import annotations


def aligned(node, g, xs: list[str], layout: str) -> list[str]:
    ranks = [len(s) for s in node.in_shapes]
    out = len(node.out_shape)
    at = 2 if layout == "cf" and out >= 2 else 1
    res = []
    for i, (x, r) in enumerate(zip(xs, ranks)):
        if r < out:
            axes = g.ints(f"{node.name}.unsqueeze{i}", list(range(at, at + out - r)))
            x = g.op("Unsqueeze", [x, axes], f"{node.name}_in{i}_aligned")
        res.append(x)
    return res


def fold(op: str, node, g, xs: list[str], layout: str) -> str:
    """``op`` (``Mul`` | ``Sub``) over the aligned inputs, left to right; the last node is named after ``node``."""
    ins = aligned(node, g, xs, layout)
    out = ins[0]
    for i, x in enumerate(ins[1:], 1):
        out = g.op(op, [out, x], node.name if i == len(ins) - 1 else f"{node.name}_{op.lower()}{i}")
    return out
