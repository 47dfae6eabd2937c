"""Keras 3 (TensorFlow) backend: native ``keras.Model``, exact weight conversion, xnn's loop."""
from .build import build, get_params, predict, set_params
from .lowering import lowerings

__all__ = ["build", "get_params", "lowerings", "predict", "set_params"]
