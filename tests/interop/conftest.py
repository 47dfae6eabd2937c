"""Fixtures of the interop tests (frameworks imported only by the tests that use them)."""
from __future__ import annotations

import pytest


@pytest.fixture
def f64():
    """Keras builds float64 models inside the test (float32 again after it)."""
    from ._keras_util import set_floatx

    set_floatx("float64")
    yield
    set_floatx("float32")
