"""Shared by SpatialDropout1D/2D: ONNX ``Dropout(ratio)`` without ``training_mode``, the identity
in inference as the layer is. ONNX has no channel-wise dropout, so the node's ``doc_string``
names the xnn kind; the importer reads it back as that layer (anything else becomes Dropout)."""
from __future__ import annotations

DOC = "xnn {kind}: whole channels are dropped in training"


def emit(node, g, xs) -> str:
    out = g.op("Dropout", [xs[0], g.scalar(f"{node.name}.ratio", float(node.layer.rate))], node.name)
    g.nodes[-1].doc_string = DOC.format(kind=node.kind)
    return out
