"""Keras pipeline (tf.device stages on 2 logical CPUs, 4 microbatches) against the unsplit model."""
from __future__ import annotations

import pytest

from .helpers import assert_params_close, keras_reference, launch_one, load_params, mlp_spec, worker_cmd, write_spec

pytestmark = pytest.mark.timeout(240)


def test_keras_pipeline_equals_unsplit(tmp_path):
    d = mlp_spec(batchnorm=False, mode="model", stages=[["d1", "a1"], ["d2", "a2", "d3"]], microbatches=4)
    spec = write_spec(tmp_path, d)
    res = launch_one(worker_cmd("keras", spec, tmp_path / "run", "--max-steps", "5"))
    assert res.returncode == 0, res.message
    assert_params_close(load_params(tmp_path / "run" / "weights.safetensors"), keras_reference(d, 5))


def test_keras_conv_pipeline_equals_unsplit(tmp_path):
    from .helpers import conv_spec

    d = conv_spec(mode="model", stages=2, microbatches=3)
    spec = write_spec(tmp_path, d)
    res = launch_one(worker_cmd("keras", spec, tmp_path / "run", "--max-steps", "3"))
    assert res.returncode == 0, res.message
    assert_params_close(load_params(tmp_path / "run" / "weights.safetensors"), keras_reference(d, 3))
