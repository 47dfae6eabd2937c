"""Torch backend: native ``nn.Module`` models, exact weight conversion, xnn's training loop."""
from .build import XnnModule, build, get_params, predict, set_params
from .lowering import lowerings

__all__ = ["XnnModule", "build", "get_params", "lowerings", "predict", "set_params"]
