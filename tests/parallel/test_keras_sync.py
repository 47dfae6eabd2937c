"""Keras under tf.distribute.MirroredStrategy (2 logical CPUs, one fresh process) vs one device."""
from __future__ import annotations

import pytest

from .helpers import assert_params_close, keras_reference, launch_one, load_params, mlp_spec, worker_cmd, write_spec

pytestmark = pytest.mark.timeout(240)


def test_mirrored_two_replicas_equal_one_device(tmp_path):
    d = mlp_spec(batchnorm=True, mode="data", workers=2, sync_batchnorm=True, timeout_s=30)
    spec = write_spec(tmp_path, d)
    res = launch_one(worker_cmd("keras", spec, tmp_path / "run", "--max-steps", "5"))
    assert res.returncode == 0, res.message
    got = load_params(tmp_path / "run" / "weights.safetensors")
    assert_params_close(got, keras_reference(d, 5))


def test_multiworker_mirrored_two_processes_equal_one_device(tmp_path):
    """MultiWorkerMirroredStrategy: 2 processes (TF_CONFIG, loopback), custom strategy.run loop."""
    from xnn.parallel.launch import free_port, run_local, tf_config

    from .helpers import ROOT, env_base

    d = mlp_spec(batchnorm=True, mode="data", workers=2, sync_batchnorm=True, timeout_s=30)
    spec = write_spec(tmp_path, d)
    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    cmd = worker_cmd("keras", spec, tmp_path / "run", "--max-steps", "5")
    res = run_local([cmd, cmd], [{**env_base(), **tf_config(cluster, "worker", i)} for i in range(2)], timeout_s=180,
                    cwd=str(ROOT), grace_s=3)
    assert res.returncode == 0, res.message
    assert_params_close(load_params(tmp_path / "run" / "weights.safetensors"), keras_reference(d, 5))
