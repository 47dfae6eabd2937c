"""Keras lowering registry. One lowering per layer kind, one file per layer in ``layers/``.

``build`` returns a Keras layer named after the node that owns the node's weights;
``apply`` calls it on the input KerasTensors (override it to add e.g. explicit padding);
``to_native``/``from_native`` convert canonical params to and from ``layer.get_weights()`` order.
Keras is channels-last like xnn's boundary, so no layout bookkeeping is needed here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

_LOWERINGS: dict[str, "KerasLowering"] = {}


@dataclass
class Ctx:
    dtype: str  # "float32" | "float64"


class KerasLowering:
    kind: ClassVar[str] = ""

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.kind:
            if cls.kind in _LOWERINGS:
                raise RuntimeError(f"keras lowering for {cls.kind} registered twice")
            _LOWERINGS[cls.kind] = cls()

    def build(self, node, ctx: Ctx):
        raise NotImplementedError

    def apply(self, layer, xs: list, node, ctx: Ctx):
        return layer(xs[0] if len(xs) == 1 else xs)

    def to_native(self, node, params: dict[str, np.ndarray]) -> list[np.ndarray]:
        return [params[k] for k in node.params]

    def from_native(self, node, weights: list[np.ndarray]) -> dict[str, np.ndarray]:
        return dict(zip(node.params, weights))


def lowerings() -> dict[str, KerasLowering]:
    from ..base import load_lowerings

    return load_lowerings("xnn.backends.keras.layers", _LOWERINGS)
