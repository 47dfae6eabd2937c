"""Torch backend: native ``nn.Module`` models, exact weight conversion, xnn's training loop."""
from .build import XnnModule, build, get_params, predict, set_params
from .lowering import lowerings


def engine(spec, data, params=None):
    """fit's engine for ``spec.parallel`` in this worker process (:mod:`xnn.train.engine`)."""
    from .parallel.engine import engine as _engine

    return _engine(spec, data, params)


__all__ = ["engine", "XnnModule", "build", "get_params", "lowerings", "predict", "set_params"]
