"""A Keras model xnn built and the user saved with ``model.save`` loads in a fresh process:
``xnn.backends.get("keras").load_model(path)``, or plain ``keras.saving.load_model`` once
``xnn.backends.keras`` is imported (xnn's layer classes register with the backend)."""
from __future__ import annotations

import subprocess
import sys

import numpy as np

SPEC = {"input": {"shape": [6, 6, 2]}, "model": [
    {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same"}, {"type": "BatchNorm"}, "relu",
    {"type": "GroupNorm", "groups": 2}, {"type": "GlobalAvgPool2D"}, {"type": "Dense", "units": 3}]}

SAVE = """
import sys, json, numpy as np
import xnn
from xnn.backends import get
spec = xnn.load_spec(json.loads(sys.argv[1]))
m = get("keras").build(spec, xnn.init_params(spec, seed=1))
m.save(sys.argv[2])
x = np.random.default_rng(0).normal(size=(2, 6, 6, 2)).astype("float32")
np.save(sys.argv[3], np.asarray(m(x)))
"""

LOAD_BACKEND = """
import sys, numpy as np
from xnn.backends import get
m = get("keras").load_model(sys.argv[1])
x = np.random.default_rng(0).normal(size=(2, 6, 6, 2)).astype("float32")
np.save(sys.argv[2], np.asarray(m(x)))
"""

LOAD_PLAIN = """
import sys, numpy as np
import torch  # torch before tensorflow in one process
import xnn.backends.keras
import keras
m = keras.saving.load_model(sys.argv[1])
x = np.random.default_rng(0).normal(size=(2, 6, 6, 2)).astype("float32")
np.save(sys.argv[2], np.asarray(m(x)))
"""


def _py(code: str, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, timeout=300)


def test_saved_keras_model_loads_in_a_fresh_process(tmp_path):
    import json

    m, want = tmp_path / "m.keras", tmp_path / "want.npy"
    r = _py(SAVE, json.dumps(SPEC), m, want)
    assert r.returncode == 0, r.stderr[-2000:]
    for name, code in (("backend", LOAD_BACKEND), ("plain", LOAD_PLAIN)):
        got = tmp_path / f"{name}.npy"
        r = _py(code, m, got)
        assert r.returncode == 0, f"{name}: {r.stderr[-2000:]}"
        np.testing.assert_array_equal(np.load(got), np.load(want), err_msg=name)
