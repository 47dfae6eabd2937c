"""Shared helpers of the ONNX tests: run ONNX Runtime (CPU) on a file or model."""
from __future__ import annotations

import numpy as np

# layers that have no ONNX mapping yet, each with its reason; a test fails once one gets a mapping
EXPECTED_MISSING: dict[str, str] = {}
# layers xnn exports to ONNX but cannot import back yet, each with its reason
EXPECTED_IMPORT_MISSING = {
    "LSTM": "the importer does not read ONNX LSTM yet (gate reorder, B split, sequence_lens -> mask)",
    "GRU": "the importer does not read ONNX GRU yet (linear_before_reset=1, sequence_lens -> mask)",
    "MultiHeadAttention": "the importer does not fold the MatMul/Softmax attention pattern back into a layer yet",
    "TransformerEncoderBlock": "contains MultiHeadAttention",
    "SequenceMask": "the importer does not read the CumSum mask pattern yet",
    "MaskedGlobalAvgPool1D": "needs SequenceMask's import",
    "MaskedGlobalMaxPool1D": "needs SequenceMask's import",
    "PositionalEmbedding": "the importer does not turn an Add of a constant table into this layer yet",
}


def ort_run(model_or_path, x: np.ndarray) -> np.ndarray:
    from xnn.interop.onnx import run_onnx

    return run_onnx(model_or_path, x)


def as_input(x: np.ndarray, dtype: str = "float32") -> np.ndarray:
    return x.astype(dtype) if np.issubdtype(x.dtype, np.floating) else x
