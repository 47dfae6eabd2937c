import pytest

import xnn


def make_spec(shape=(64,), units=10, loss="cross_entropy", data=None, train=None):
    """A one-Dense spec around a given input shape (enough for data tests)."""
    layers = ([{"type": "Flatten"}] if len(shape) > 1 else []) + [{"type": "Dense", "units": units}]
    d = {"input": {"shape": list(shape)}, "model": layers,
         "train": {"loss": loss, **(train or {})}, "data": data or {}}
    return xnn.load_spec(d)


@pytest.fixture
def spec_factory():
    return make_spec
