"""Shared helpers of the ONNX tests: run ONNX Runtime (CPU) on a file or model."""
from __future__ import annotations

import numpy as np

# layers that have no ONNX mapping yet, each with its reason; a test fails once one gets a mapping
EXPECTED_MISSING: dict[str, str] = {}
# layers xnn exports to ONNX but cannot import back yet, each with its reason
# kinds whose ONNX form the graph importer does not read back as the layer: an xnn-written file
# of them imports as its stored spec, checked against the graph (importer/restore.py); a file
# without xnn's metadata (or edited after export) is refused
EXPECTED_IMPORT_MISSING = {
    "MultiHeadAttention": "the importer does not fold the MatMul/Softmax attention pattern back into a layer",
    "TransformerEncoderBlock": "contains MultiHeadAttention",
    "SequenceMask": "the importer does not read the CumSum mask pattern",
    "MaskedGlobalAvgPool1D": "needs SequenceMask's import",
    "MaskedGlobalMaxPool1D": "needs SequenceMask's import",
    "PositionalEmbedding": "the importer does not turn an Add of a constant table into this layer",
    "ClassToken": "the importer does not turn the Expand + Concat of a learned token into this layer",
}

# LSTM/GRU registry cases of the same kind (by case id), each with its reason
_MASKED = "SequenceMask (CumSum pattern) and ONNX sequence_lens are not read from the graph"
RNN_IMPORT_MISSING_CASES: dict[str, str] = {
    f"{kind}-{cid}": _MASKED for kind in ("LSTM", "GRU")
    for cid in ("masked_stacked", "masked_bidir_sum", "masked_bidir_last", "masked_state", "initial_state")
}


def ort_run(model_or_path, x: np.ndarray) -> np.ndarray:
    from xnn.interop.onnx import run_onnx

    return run_onnx(model_or_path, x)


def as_input(x: np.ndarray, dtype: str = "float32") -> np.ndarray:
    return x.astype(dtype) if np.issubdtype(x.dtype, np.floating) else x
