"""Scale: ``Scale`` (= weight) and ``Offset`` (= bias) in the dlarray layout of the input without
its batch axis, so that ``X .* Scale + Offset`` broadcasts in MATLAB (a per-channel Scale of an
SSCB image is 1x1xC, of a CB vector Cx1). ``export_json``: ``format`` (the input's dlarray format)
and ``shape`` (the parameters' per-sample shape at the input's full rank, channels last)."""
from __future__ import annotations

import numpy as np

from ..layouts import Arrays, Context, MatLayout, from_dlarray_order, to_dlarray_order

NAMES = {"weight": "Scale", "bias": "Offset"}


def _full(node) -> tuple[int, ...]:
    s = node.in_shapes[0]
    p = node.layer.param_shape(s)
    return (1,) * (len(s) - len(p)) + tuple(p)


class ScaleM(MatLayout):
    kind = "Scale"

    def to_mat(self, node, p: Arrays, ctx: Context) -> Arrays:
        fmt = ctx.in_format(node)
        out = {}
        for k, v in p.items():
            m = to_dlarray_order(np.asarray(v).reshape((1, *_full(node))), fmt)
            if fmt not in ("CB", "CBT"):  # S..SCB: the batch axis is last; MATLAB drops it anyway
                m = m.reshape(m.shape[:-1])
            out[NAMES[k]] = m
        return out

    def from_mat(self, node, m: Arrays, ctx: Context) -> Arrays:
        fmt = ctx.in_format(node)
        inv = {v: k for k, v in NAMES.items()}
        full = _full(node)
        want = node.layer.param_shape(node.in_shapes[0])
        out = {}
        for k, v in m.items():
            v = np.asarray(v)
            if fmt == "CB":
                v = v.reshape(full[-1], 1)
            elif fmt == "CBT":
                v = v.reshape(full[-1], 1, full[0])
            else:  # S..SCB: the batch axis (dropped) is last
                v = v.reshape(*full, 1)
            out[inv[k]] = from_dlarray_order(v, fmt)[0].reshape(want)
        return out

    def notes(self, node, ctx: Context) -> dict:
        return {"format": ctx.in_format(node), "shape": [int(d) for d in _full(node)]}
