"""Cross-section checks that need the resolved graph (loss vs output shape, parallel setup)."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Spec


def check_spec(spec: "Spec") -> list[str]:
    errors: list[str] = []
    out = spec.output.out_shape
    loss = spec.train.loss.type
    if loss in ("cross_entropy",) and (len(out) < 1 or out[-1] < 2):
        errors.append(f"train.loss: cross_entropy needs at least 2 output classes (model output shape {list(out)})")
    if spec.input.dtype.startswith("int") and spec.nodes[0].kind not in ("Embedding",):
        pass
    nodes = spec.node_map
    for n in spec.nodes:  # rules a layer states about its producers (e.g. a recurrent initial state)
        check = getattr(n.layer, "check_graph", None)
        if check is not None:
            errors.extend(check(n, nodes))
    from ..parallel.plan import check_parallel  # parallel-section rules (framework-neutral)

    errors.extend(check_parallel(spec))
    return errors
