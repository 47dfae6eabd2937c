"""Torch lowering registry. One lowering per layer kind, one file per layer in ``layers/``.

A lowering builds an ``nn.Module`` whose parameters/buffers are named like the canonical params
(``weight``, ``bias``, ``running_mean``...), so canonical weights load without renaming. Override
``to_native``/``from_native`` where a layout differs.

Layouts: tensors with spatial axes flow channels-first (``cf``) between layers that want it and
channels-last (``cl``) elsewhere; the graph inserts permutes where neighbours disagree.
``layout = "any"`` layers work on either and get the layout they run in as ``ctx.layout``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

_LOWERINGS: dict[str, "TorchLowering"] = {}


@dataclass
class Ctx:
    layout: str  # cf | cl, the layout this node's inputs arrive in and its output leaves in
    dtype: "object"  # torch dtype
    device: "object"


class TorchLowering:
    kind: ClassVar[str] = ""
    layout: ClassVar[str] = "cl"  # cf | cl | any

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.kind:
            if cls.kind in _LOWERINGS:
                raise RuntimeError(f"torch lowering for {cls.kind} registered twice")
            _LOWERINGS[cls.kind] = cls()

    def build(self, node, ctx: Ctx):
        raise NotImplementedError

    def to_native(self, node, params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Canonical params of one node -> the module's state_dict entries."""
        return params

    def from_native(self, node, state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The module's state_dict entries -> canonical params of one node."""
        return {k: state[k] for k in node.params}


def lowerings() -> dict[str, TorchLowering]:
    from ..base import load_lowerings

    return load_lowerings("xnn.backends.torch.layers", _LOWERINGS)
