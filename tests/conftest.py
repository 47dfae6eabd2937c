import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import pytest  # noqa: E402


def pytest_collection_modifyitems(config, items):
    if os.environ.get("XNN_FAST"):
        skip = pytest.mark.skip(reason="XNN_FAST=1 skips slow tests")
        for it in items:
            if "slow" in it.keywords:
                it.add_marker(skip)
