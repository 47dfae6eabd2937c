"""Parity cases as runnable specs: each registered layer's ``cases()`` turned into a small graph
(input -> [pre-nodes for extra inputs] -> the layer) and a seeded input batch.

Used by the parity tests, ``xnn parity`` docs generation and the exporters' tests.
"""
from __future__ import annotations

import numpy as np

from .spec import from_dict, layers


def all_cases():
    out = []
    for kind, cls in sorted(layers().items()):
        for i, case in enumerate(cls.cases()):
            out.append((kind, case, f"{kind}-{case.id or i}"))
    return out


def case_spec(kind: str, case, dtype: str = "float64"):
    """A spec: input -> [pre-nodes for extra inputs] -> the layer under test."""
    shapes = case.in_shapes
    fields = {"type": kind, "name": "node", **case.fields}
    in_dtype = "int64" if case.input_kind.startswith("int") else dtype
    graph = getattr(layers()[kind], "case_graph", None)  # layers whose extra inputs are masks/states
    if graph is not None and len(shapes) > 1:
        inp, model = graph(case, fields)
        return from_dict({"input": {**inp, "dtype": in_dtype}, "model": model,
                          "train": {"dtype": dtype, "loss": "mse", "metrics": []}})
    if len(shapes) == 1:
        model = [fields]
        inp = list(shapes[0])
    else:
        lead = shapes[0][:-1]
        assert all(s[:-1] == lead for s in shapes), "multi-input cases share leading axes"
        inp = [*lead, 5]
        model = [{"type": "Dense", "units": s[-1], "name": f"pre{i}", "inputs": ["input"]} for i, s in enumerate(shapes)]
        model.append({**fields, "inputs": [f"pre{i}" for i in range(len(shapes))]})
    return from_dict({"input": {"shape": inp, "dtype": in_dtype}, "model": model,
                      "train": {"dtype": dtype, "loss": "mse", "metrics": []}})


def case_input(spec, case, n: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (n, *spec.input_shape)
    if case.input_kind.startswith("int"):
        return rng.integers(0, int(case.input_kind.split(":")[1]), size=shape).astype(np.int64)
    if case.input_kind == "positive":
        return rng.uniform(0.5, 2.0, size=shape)
    if case.input_kind == "padded":  # sequences right-padded with zero steps, lengths T, T//2, 1, ...
        x = rng.normal(size=shape)
        t = shape[1]
        for i in range(n):
            x[i, [t, max(1, t // 2), 1][i % 3]:] = 0.0
        return x
    return rng.normal(size=shape)
