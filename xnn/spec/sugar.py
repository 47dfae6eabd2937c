"""Spellings a spec may use that parse into plain nodes (so every path sees the same graph).

``activation:`` on a layer whose class sets ``activation_sugar`` (Dense, Conv*, ConvTranspose*),
as Keras writes ``Dense(64, activation="relu")``: the node is followed by an Activation node
named ``<node>_<fn>``, and later nodes that name ``<node>`` in their ``inputs`` read that
activation's output (Keras's meaning). The layer keeps its name, so its weights keep theirs
(``<node>.weight``); the run's spec.yaml holds the two plain nodes, which parse to the same
spec (and hash) as the sugared form.
"""
from __future__ import annotations

import difflib
import typing
from typing import Any

# Keras's names of xnn's activations; "linear" (and null) add no node
KERAS_NAMES = {"swish": "silu", "hard_silu": "hard_swish"}
IDENTITY = ("linear", None)


def activation_fns() -> tuple[str, ...]:
    """The Activation layer's ``fn`` values (its field's Literal)."""
    from . import registry

    return typing.get_args(registry.layers()["Activation"].model_fields["fn"].annotation)


def activation_node(value: Any, path: str, name: str, fns: tuple[str, ...]) -> tuple[dict | None, list[str]]:
    """The Activation entry that ``activation: value`` of node ``name`` stands for (None: the
    identity) and the errors, each naming ``<path>.activation``.

    ``value``: a function name (``relu``, Keras's ``swish``) or a mapping of Activation fields
    (``{fn: leaky_relu, negative_slope: 0.2}``)."""
    where = f"{path}.activation"
    if isinstance(value, str) or value is None:
        if value in IDENTITY:
            return None, []
        fn = KERAS_NAMES.get(value, value)
        if fn not in fns:
            close = difflib.get_close_matches(value, fns, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            return None, [f"{where}: unknown activation {value!r}{hint}; one of {', '.join(fns)} or linear"]
        fields: dict = {"fn": fn}
    elif isinstance(value, dict):
        bad = [k for k in value if k in ("type", "name", "inputs")]
        if bad:
            return None, [f"{where}.{bad[0]}: not allowed here (the activation node follows its layer)"]
        fields = dict(value)
        if fields.get("fn") in KERAS_NAMES:
            fields["fn"] = KERAS_NAMES[fields["fn"]]
    else:
        return None, [f"{where}: must be an activation name or a mapping of Activation fields (received {type(value).__name__})"]
    return {"type": "Activation", **fields, "name": f"{name}_{fields.get('fn', 'act')}", "inputs": [name]}, []
