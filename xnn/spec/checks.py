"""Cross-section checks that need the resolved graph (loss vs output shape, parallel setup)."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Spec


def _mask_source(node, nodes) -> list[str]:
    """A sequence layer's mask input must be a SequenceMask output: every path (NumPy, torch's
    lengths, Keras's per-step masks, ONNX sequence_lens) reads masks as right-padded prefixes,
    which SequenceMask guarantees and an arbitrary (T,) tensor does not."""
    idx = getattr(node.layer, "mask_index", lambda shapes: None)(list(node.in_shapes))
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
    nodes = spec.node_map
    for n in spec.nodes:  # rules a layer states about its producers (e.g. a recurrent initial state)
        check = getattr(n.layer, "check_graph", None)
        if check is not None:
            errors.extend(check(n, nodes))
        errors.extend(_mask_source(n, nodes))
    errors.extend(_value_ranges(spec))
    from .datacheck import check_data

    errors.extend(check_data(spec.data.source, spec.data.options))
    from ..parallel.plan import check_parallel  # parallel-section rules (framework-neutral)

    errors.extend(check_parallel(spec))
    return errors


def _value_ranges(spec: "Spec") -> list[str]:
    """Floats of the train section and the layers that train.dtype cannot hold: the optimizer
    and the layers compute in that dtype (lr 1e39 is inf in float32)."""
    from .strict import dtype_range_errors

    dtype = spec.train.dtype
    errors = dtype_range_errors(spec.raw["train"], spec.train, "train", dtype)
    for i, (d, layer) in enumerate(zip(spec.raw["model"], spec.layers)):
        errors.extend(dtype_range_errors(d, layer, f"model[{i}]", dtype))
    return errors
