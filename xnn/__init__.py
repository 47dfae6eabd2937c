"""xnn: one framework-neutral model + training spec, native PyTorch and Keras 3 models that
compute and train identically, ONNX and MATLAB .mat export, parity checked.

``import xnn`` imports neither torch nor tensorflow; backends load when first used.
"""
from __future__ import annotations

__version__ = "0.1.0"

from .errors import DataError, FormatError, ParityError, SpecError, TrainingError, XnnError
from .init import init_params
from .reference import forward as reference_forward
from .spec import Spec, from_dict, load_spec
from .weights import load_weights, save_weights


def fit(spec, backend: str = "torch", **kwargs):
    """Train a spec (see :func:`xnn.train.fit`); the backend's framework is imported only here."""
    from .train import fit as _fit

    return _fit(spec, backend, **kwargs)


def from_keras(model):
    """A Keras 3 Sequential or functional model as ``(spec_dict, params)`` (see
    :func:`xnn.interop.keras.from_keras`); keras is imported only when this is called."""
    from .interop.keras import from_keras as _from_keras

    return _from_keras(model)


def from_torch(module, example_input):
    """A PyTorch ``nn.Module`` as ``(spec_dict, params)`` (see :func:`xnn.interop.torch.from_torch`:
    channels-first inputs come in channels-last); torch is imported only when this is called."""
    from .interop.torch import from_torch as _from_torch

    return _from_torch(module, example_input)


__all__ = [
    "DataError", "FormatError", "ParityError", "Spec", "SpecError", "TrainingError", "XnnError",
    "__version__", "fit", "from_dict", "from_keras", "from_torch", "init_params", "load_spec", "load_weights", "reference_forward",
    "save_weights",
]
