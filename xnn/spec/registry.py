"""Layer registry: the file layout under xnn/layers/ is the registry.

Names carry a version (``Dense@1``); registering a name twice is an error.
"""
from __future__ import annotations

import difflib
import importlib
import pkgutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .layer import Layer

_LAYERS: dict[str, type["Layer"]] = {}
_ALIASES: dict[str, tuple[str, dict]] = {}
_loaded = False
_HAS: dict[tuple[type, str], bool] = {}


def register(cls: type["Layer"]) -> type["Layer"]:
    """Class decorator: add a layer class under ``cls.kind``."""
    name = cls.kind
    if name in _LAYERS:
        raise RuntimeError(f"layer {name}@{cls.version} registered twice")
    _LAYERS[name] = cls
    return cls


def alias(name: str, target: str, **fixed) -> None:
    """Shorthand type names, e.g. ``relu`` -> ``Activation`` with ``fn: relu``."""
    _ALIASES[name] = (target, fixed)


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    import xnn.layers as pkg

    for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if not m.name.startswith("_"):
            importlib.import_module(f"xnn.layers.{m.name}")


def layers() -> dict[str, type["Layer"]]:
    """All registered layer classes by type name."""
    _load()
    return dict(_LAYERS)


def aliases() -> dict[str, tuple[str, dict]]:
    _load()
    return dict(_ALIASES)


# PyTorch's and Keras's names of xnn's layers (hints, not aliases: a spec has one spelling)
_SPELLINGS = {
    "linear": "Dense", "lazylinear": "Dense",
    "conv1d": "Conv1D", "batchnorm1d": "BatchNorm", "batchnorm2d": "BatchNorm",
    "batchnormalization": "BatchNorm", "layernormalization": "LayerNorm",
    "maxpooling2d": "MaxPool2D", "maxpooling1d": "MaxPool1D", "maxpool2d": "MaxPool2D",
    "averagepooling2d": "AvgPool2D", "avgpool2d": "AvgPool2D", "averagepooling1d": "AvgPool1D",
    "globalaveragepooling2d": "GlobalAvgPool2D", "globalaveragepooling1d": "GlobalAvgPool1D",
    "adaptiveavgpool2d": "GlobalAvgPool2D (output size 1)", "multiheadattention": "MultiHeadAttention",
    "globalmaxpooling2d": "GlobalMaxPool2D", "globalmaxpooling1d": "GlobalMaxPool1D",
    "adaptivemaxpool2d": "GlobalMaxPool2D (output size 1)", "conv2dtranspose": "ConvTranspose2D",
    "conv1dtranspose": "ConvTranspose1D", "convtranspose2d": "ConvTranspose2D", "upsample": "UpSampling2D",
    "upsampling": "UpSampling2D", "groupnormalization": "GroupNorm", "instancenorm2d": "InstanceNorm",
    "instancenormalization": "InstanceNorm", "localresponsenorm": "LRN", "dropout2d": "SpatialDropout2D",
    "dropout1d": "SpatialDropout1D", "depthwiseconv2d": "Conv2D (groups = channels)",
    "sequential": "a list of layers under model:",
}


def resolve_type(name: str) -> tuple[type["Layer"], dict]:
    """Layer class and fixed fields for a ``type`` value; KeyError with a hint if unknown."""
    _load()
    if name in _LAYERS:
        return _LAYERS[name], {}
    if name in _ALIASES:
        target, fixed = _ALIASES[name]
        return _LAYERS[target], dict(fixed)
    low = {k.lower(): k for k in list(_LAYERS) + list(_ALIASES)}
    if name.lower() in low:
        return resolve_type(low[name.lower()])
    alt = _SPELLINGS.get(name.lower().removeprefix("nn.").removeprefix("torch.nn."))
    if alt:
        more = ", with units: out_features" if alt == "Dense" else ""
        raise KeyError(f"unknown layer type (xnn calls it '{alt}'{more})")
    close = difflib.get_close_matches(name, list(_LAYERS) + list(_ALIASES), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise KeyError(f"unknown layer type{hint}")


def class_has(cls: type, name: str) -> bool:
    """``hasattr`` on a layer class, cached: pydantic answers a missing name slowly, and big
    graphs ask once per node."""
    key = (cls, name)
    if key not in _HAS:
        _HAS[key] = hasattr(cls, name)
    return _HAS[key]
