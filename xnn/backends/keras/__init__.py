"""Keras 3 (TensorFlow) backend: native ``keras.Model``, exact weight conversion, xnn's loop."""
from .build import build, get_params, predict, set_params
from .lowering import lowerings


def engine(spec, data, params=None):
    """fit's engine for ``spec.parallel`` in this worker process (:mod:`xnn.train.engine`)."""
    from .parallel.engine import engine as _engine

    return _engine(spec, data, params)


__all__ = ["engine", "build", "get_params", "lowerings", "predict", "set_params"]
