"""Keras 3 (TensorFlow) backend: native ``keras.Model``, exact weight conversion, xnn's loop."""
from .build import build, get_params, load_model, predict, set_params
from .lowering import lowerings

# xnn's Keras layer classes are registered for deserialization as soon as this backend is
# imported: a saved model then loads with plain keras.saving.load_model
lowerings()


def engine(spec, data, params=None):
    """fit's engine for ``spec.parallel`` in this worker process (:mod:`xnn.train.engine`)."""
    from .parallel.engine import engine as _engine

    return _engine(spec, data, params)


__all__ = ["engine", "build", "get_params", "load_model", "lowerings", "predict", "set_params"]
