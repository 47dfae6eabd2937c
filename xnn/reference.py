"""NumPy reference forward pass over a spec's graph (evaluation mode, float64 by default)."""
from __future__ import annotations

import numpy as np


def forward(spec, params: dict[str, np.ndarray], x: np.ndarray, dtype: str = "float64",
            return_all: bool = False):
    """Run the graph on a batch ``x`` of shape ``(N, *spec.input.shape)``; returns the output.

    With ``return_all`` returns every node's output by name.
    """
    acts: dict[str, np.ndarray] = {"input": x.astype(dtype) if np.issubdtype(x.dtype, np.floating) else x}
    for n in spec.nodes:
        p = {k: params[f"{n.name}.{k}"].astype(dtype) for k in n.params}
        acts[n.name] = n.layer.forward(p, [acts[i] for i in n.inputs])
    return acts if return_all else acts[spec.output.name]
