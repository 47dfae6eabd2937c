"""What the Keras import tests share: float64 Keras models (the ``f64`` fixture in conftest.py) and
non-trivial random weights.

Imported by the test modules after they have imported torch and keras (torch first in one process).
"""
from __future__ import annotations

import keras
import numpy as np


def set_floatx(dtype: str) -> None:
    """floatx and the global dtype policy: Keras fixes the policy from floatx the first time any
    layer asks for it, so floatx alone does nothing once another test has built a layer."""
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)


def randomize(model, seed: int = 0, scale: float = 0.4):
    """Random non-trivial weights N(0, scale) (Keras initializes biases and BN statistics to
    constants); a BatchNormalization's moving variance U(0.5, 1.5), to stay positive."""
    rng = np.random.default_rng(seed)
    for lay in model.layers:
        ws = lay.get_weights()
        if not ws:
            continue
        new = []
        for i, w in enumerate(ws):
            if isinstance(lay, keras.layers.BatchNormalization) and i == len(ws) - 1:
                new.append(rng.uniform(0.5, 1.5, w.shape))
            else:
                new.append(rng.normal(0, scale, w.shape))
        lay.set_weights([a.astype(w.dtype) for a, w in zip(new, ws)])
    return model
