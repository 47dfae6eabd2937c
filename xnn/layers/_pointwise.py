"""Shared by Multiply and Subtract: NumPy broadcasting of per-sample shapes, and the small graphs
their parity cases run in.

Broadcasting is NumPy's on the per-sample (channels-last) shapes: shapes are aligned at the
right, a size-1 axis stretches, and a shorter shape gets unit axes in front *after the batch
axis*. ``(H, W, C) * (C,)`` scales every channel (squeeze-and-excitation), ``(H, W, C) * (1, 1, C)``
the same, ``(L, C) * (1, C)`` every step. The batch axis is never broadcast: every input has one.
"""
from __future__ import annotations

import math

import numpy as np

from ..spec.layer import Case, Shape, ShapeError


def broadcast(in_shapes: list[Shape]) -> Shape:
    """The broadcast per-sample shape of ``in_shapes``; ShapeError (field ``inputs``) if none."""
    rank = max(len(s) for s in in_shapes)
    out = [1] * rank
    for s in in_shapes:
        for i, d in enumerate(s):
            j = rank - len(s) + i
            if d != 1 and out[j] not in (1, d):
                shown = ", ".join(str(list(x)) for x in in_shapes)
                raise ShapeError(f"input shapes {shown} cannot be broadcast (NumPy rules on the per-sample shapes, "
                                 f"aligned at the last axis): axis {i} of input {list(in_shapes).index(s)} has size "
                                 f"{d} where another input has {out[j]}", "inputs")
            if d != 1:
                out[j] = d
    return tuple(out)


def expand(x: np.ndarray, rank: int) -> np.ndarray:
    """A batch ``(N, *s)`` with unit axes inserted after the batch axis up to per-sample ``rank``."""
    missing = rank - (x.ndim - 1)
    return x.reshape(x.shape[0], *(1,) * missing, *x.shape[1:]) if missing > 0 else x


def case_graph(case: Case, fields: dict) -> tuple[dict, list[dict]]:
    """Each operand computed from one input: a 'same'-padded Conv2D/Conv1D (so torch hands the
    layer channels-first tensors) for an operand of the full shape, else Flatten -> Dense ->
    Reshape (channels-last in torch, permuted by the compiled graph where the layer runs cf)."""
    out = broadcast(case.in_shapes)
    rank = len(out)
    inp = [*out[:-1], 3] if rank > 1 else [5]
    model: list[dict] = []
    names = []
    for i, s in enumerate(case.in_shapes):
        s = tuple(s)
        name = f"pre{i}"
        if s == out and rank in (2, 3):
            model.append({"type": f"Conv{rank - 1}D", "name": name, "filters": s[-1], "kernel_size": 3,
                          "padding": "same", "inputs": ["input"]})
        elif s == out and rank == 1:
            model.append({"type": "Dense", "name": name, "units": s[0], "inputs": ["input"]})
        else:
            model.append({"type": "Flatten", "name": f"{name}_flat", "inputs": ["input"]})
            model.append({"type": "Dense", "name": name if len(s) == 1 else f"{name}_dense",
                          "units": math.prod(s), "inputs": [f"{name}_flat"]})
            if len(s) > 1:
                model.append({"type": "Reshape", "name": name, "target_shape": list(s), "inputs": [f"{name}_dense"]})
        names.append(name)
    model.append({**fields, "inputs": names})
    return {"shape": inp}, model
