"""Cross-section checks that need the resolved graph (loss vs output shape, parallel setup)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .registry import class_has

if TYPE_CHECKING:
    from .model import Spec


def _mask_source(node, nodes) -> list[str]:
    """A sequence layer's mask input must be a SequenceMask output: every path (NumPy, torch's
    lengths, Keras's per-step masks, ONNX sequence_lens) reads masks as right-padded prefixes,
    which SequenceMask guarantees and an arbitrary (T,) tensor does not."""
    # class lookups: pydantic's instance __getattr__ is slow for missing names (big graphs)
    has = class_has(type(node.layer), "mask_index")
    idx = node.layer.mask_index(list(node.in_shapes)) if has else None
    if idx is None:
        return []
    src = nodes.get(node.inputs[idx])
    if src is not None and src.kind == "SequenceMask":
        return []
    where = f"node {node.origin!r}" if node.origin else f"node {node.name!r}"
    return [f"model: {where}: its mask input must come from a SequenceMask node (received {node.inputs[idx]!r})"]


def check_spec(spec: "Spec") -> list[str]:
    """Every cross-section problem of a spec whose sections and graph are valid."""
    errors: list[str] = []
    out = spec.output.out_shape
    loss = spec.train.loss.type
    if loss in ("cross_entropy",) and (len(out) < 1 or out[-1] < 2):
        errors.append(f"train.loss: cross_entropy needs at least 2 output classes (model output shape {list(out)})")
    es = spec.train.early_stopping
    if es is not None and es.monitor != "val_loss" and es.monitor[len("val_"):] not in spec.train.metrics:
        errors.append(f"train.early_stopping.monitor: {es.monitor} needs {es.monitor[len('val_'):]!r} in "
                      f"train.metrics (received metrics {list(spec.train.metrics)})")
    nodes = spec.node_map
    for n in spec.nodes:  # rules a layer states about its producers (e.g. a recurrent initial state)
        if class_has(type(n.layer), "check_graph"):
            errors.extend(n.layer.check_graph(n, nodes))
        errors.extend(_mask_source(n, nodes))
    from .datacheck import check_data

    errors.extend(check_data(spec.data.source, spec.data.options))
    from ..parallel.plan import check_parallel  # parallel-section rules (framework-neutral)

    errors.extend(check_parallel(spec))
    return errors

