"""Shared helpers for the parallel tests: tiny specs, launching workers, single-process references.

Every subprocess is started through :func:`xnn.parallel.launch.run_local`, which stops all of
them (process groups, SIGTERM then SIGKILL) on failure, timeout or interruption.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import yaml

from xnn.parallel.launch import LaunchResult, free_port, run_local, torch_env

ROOT = Path(__file__).resolve().parents[2]
RTOL = 1e-8  # float64 runs: DDP / strategies vs one process


def mlp_spec(batchnorm: bool = True, **parallel) -> dict:
    """8 features -> Dense 16 (-> BatchNorm) -> relu -> Dense 8 -> tanh -> Dense 3; float64, SGD+momentum."""
    model = [{"type": "Dense", "units": 16, "name": "d1"}]
    if batchnorm:
        model.append({"type": "BatchNorm", "name": "bn1"})
    model += [{"type": "Activation", "fn": "relu", "name": "a1"}, {"type": "Dense", "units": 8, "name": "d2"},
              {"type": "Activation", "fn": "tanh", "name": "a2"}, {"type": "Dense", "units": 3, "name": "d3"}]
    return {
        "name": "mlp", "input": {"shape": [8], "dtype": "float64"}, "model": model,
        "train": {"epochs": 2, "batch_size": 16, "seed": 3, "dtype": "float64",
                  "optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9}, "metrics": ["accuracy"], "threads": 1},
        "data": {"source": "synthetic_classification", "options": {"n_samples": 168}, "x": "standardize",
                 "split": {"val": 0.1, "test": 0.1}},
        "parallel": parallel,
    }


def write_spec(tmp: Path, d: dict, name: str = "spec.yaml") -> Path:
    p = tmp / name
    p.write_text(yaml.safe_dump(d))
    return p


def worker_cmd(backend: str, spec: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "xnn.parallel.worker", "--backend", backend, "--spec", str(spec), "--out", str(out), *extra]


def env_base() -> dict[str, str]:
    return {"PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": "", "KERAS_BACKEND": "tensorflow",
            "TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0", "XNN_TRACEBACK": "1"}


def fault(kind: str, step: int, rank: int = 1) -> dict[str, str]:
    """The test-only fault hook's environment (xnn.parallel.faults): ``kind`` fail|hang|kill."""
    return {"XNN_FAULT": f"{kind}@{step}:{rank}"}


def checkpoint_names(run: Path) -> list[str]:
    """Checkpoint folders of a run, oldest first (``epoch_NNNN`` / ``epoch_NNNN_bBBBBBB``)."""
    d = run / "checkpoints"
    return sorted(p.name for p in d.iterdir()) if d.is_dir() else []


def launch_torch(n: int, cmd: list[str], timeout_s: float = 90, env: dict | None = None) -> LaunchResult:
    port = free_port()
    envs = [{**env_base(), **(env or {}), **torch_env(r, n, port)} for r in range(n)]
    return run_local([cmd] * n, envs, timeout_s=timeout_s, cwd=str(ROOT), grace_s=3)


def torch_reference(spec_d: dict, steps: int) -> dict[str, np.ndarray]:
    """One process, the same fit on whole batches of the same order, ``steps`` optimizer steps."""
    import xnn

    return xnn.fit(xnn.from_dict({**spec_d, "parallel": {}}), "torch", max_steps=steps, progress=False).params


def assert_params_close(a: dict, b: dict, rtol: float = RTOL) -> None:
    assert set(a) == set(b)
    for k in a:
        np.testing.assert_allclose(a[k], b[k], rtol=rtol, atol=rtol * max(1.0, float(np.abs(b[k]).max())), err_msg=k)


def load_params(path: Path) -> dict[str, np.ndarray]:
    from xnn.weights import load_weights

    return load_weights(path)


def launch_one(cmd: list[str], timeout_s: float = 120, env: dict | None = None) -> LaunchResult:
    """One supervised process (a fresh TF per test: logical devices are set before TF starts)."""
    return run_local([cmd], [{**env_base(), **(env or {})}], timeout_s=timeout_s, cwd=str(ROOT), grace_s=3)


def keras_reference(spec_d: dict, steps: int) -> dict[str, np.ndarray]:
    """One process, Keras, the same fit on whole batches, ``steps`` optimizer steps."""
    import xnn

    return xnn.fit(xnn.from_dict({**spec_d, "parallel": {}}), "keras", max_steps=steps, progress=False).params


def digits_cnn(**parallel) -> dict:
    """The digits CNN: (8, 8, 1) -> Conv 3x3x16 -> relu -> Flatten -> Dense 10; Adam, float32."""
    return {
        "name": "digits_cnn", "input": {"shape": [8, 8, 1]},
        "model": [{"type": "Conv2D", "filters": 16, "kernel_size": 3, "padding": "same", "name": "c1"},
                  {"type": "Activation", "fn": "relu", "name": "r1"}, {"type": "Flatten", "name": "f"},
                  {"type": "Dense", "units": 10, "name": "out"}],
        "train": {"epochs": 8, "batch_size": 32, "seed": 0, "optimizer": {"type": "adam", "lr": 0.005}, "threads": 1},
        "data": {"source": "digits", "x": "minmax", "split": {"val": 0.0, "test": 0.2}},
        "parallel": parallel,
    }


def launch_tf_ps(cmd: list[str], workers: int = 2, timeout_s: float = 240, env: dict | None = None) -> LaunchResult:
    """A local TF parameter-server cluster: chief (index 0 of the commands), workers, one ps."""
    from xnn.parallel.launch import tf_config

    cluster = {"chief": [f"127.0.0.1:{free_port()}"], "worker": [f"127.0.0.1:{free_port()}" for _ in range(workers)],
               "ps": [f"127.0.0.1:{free_port()}"]}
    tasks = [("chief", 0)] + [("worker", i) for i in range(workers)] + [("ps", 0)]
    envs = [{**env_base(), **(env or {}), **tf_config(cluster, t, i)} for t, i in tasks]
    return run_local([cmd] * len(tasks), envs, timeout_s=timeout_s, cwd=str(ROOT), grace_s=3,
                     names=[f"{t} {i}" for t, i in tasks], primary=0)


def conv_spec(**parallel) -> dict:
    """(6, 6, 2) -> Conv 3x3x4 -> relu -> Conv 3x3x4 -> Flatten -> Dense 3; float64 (cuts cross channels-first tensors)."""
    return {
        "name": "conv", "input": {"shape": [6, 6, 2], "dtype": "float64"},
        "model": [{"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same", "name": "c1"},
                  {"type": "Activation", "fn": "relu", "name": "r1"},
                  {"type": "Conv2D", "filters": 4, "kernel_size": 3, "name": "c2"},
                  {"type": "Flatten", "name": "f"}, {"type": "Dense", "units": 3, "name": "o"}],
        "train": {"epochs": 1, "batch_size": 12, "seed": 1, "dtype": "float64",
                  "optimizer": {"type": "adam", "lr": 0.01}, "threads": 1},
        "data": {"source": "synthetic_classification", "options": {"n_samples": 60, "n_classes": 3},
                 "split": {"val": 0.0, "test": 0.0, "stratify": False}},
        "parallel": parallel,
    }
