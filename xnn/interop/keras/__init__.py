"""Keras 3 models into xnn: a live model (:func:`from_keras`) or a ``.keras`` file
(:func:`import_keras`, read as data: no code from the file runs). Both go through the same
config walk (:mod:`.graph`) and per-layer conversions (:mod:`.layers`), and the weights through
the xnn Keras lowerings' ``from_native``.

- :func:`from_keras` ``(model) -> (spec_dict, params)``
- :func:`import_keras` ``(path) -> (spec_dict, params)``

Importing this package imports no framework; the conversion imports keras (for the lowerings).
"""
from __future__ import annotations

import json

import numpy as np

from ...errors import FormatError

__all__ = ["from_keras", "import_keras"]


def import_keras(path):
    """``(spec_dict, params)`` of a Keras 3 ``.keras`` file; FormatError (one line per problem)
    for hostile, damaged or unsupported files."""
    from .archive import import_keras as _imp

    return _imp(path)


def _plain(o):
    if isinstance(o, (list, tuple)):
        return [_plain(v) for v in o]
    if isinstance(o, dict):
        return {str(k): _plain(v) for k, v in o.items()}
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, (str, int, float, bool)) or o is None:
        return o
    return str(o)


def from_keras(model) -> tuple[dict, dict[str, np.ndarray]]:
    """A Keras 3 Sequential or functional model as ``(spec_dict, params)``: the spec dict
    :func:`xnn.spec.from_dict` accepts and canonical float64 params ``<node>.<param>``.
    Keras's semantics are converted exactly (docs/import.md); every unsupported layer is
    listed at once in one FormatError."""
    import keras

    from .graph import convert

    if not isinstance(model, keras.Model):
        raise FormatError(f"from_keras expects a keras.Model (received {type(model).__name__})")
    where = f"Keras model {model.name!r}"
    try:
        cfg = _plain(json.loads(json.dumps(keras.saving.serialize_keras_object(model), default=str)))
    except Exception as e:
        raise FormatError(f"{where}: cannot read its config ({type(e).__name__}: {str(e)[:120]})") from None
    layers = {}
    for lay in getattr(model, "layers", []):
        layers[lay.name] = lay

    def source_for(entries, kind):
        def weights(klay):
            lay = layers.get(klay.name)
            if lay is None:
                raise FormatError(f"{where}: layer {klay.name!r} of the config is not among the model's layers")
            return [np.asarray(w) for w in lay.get_weights()]

        return weights

    return convert(cfg, source_for, where)
