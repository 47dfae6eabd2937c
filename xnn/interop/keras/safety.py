"""Refuse, by name and before anything else, what a Keras config would need code for: Lambda
layers (marshalled Python bytecode), custom layers/objects (a ``module`` outside Keras's own, a
``registered_name`` other than the class's), serialized functions and unknown special objects.

Nothing is ever deserialized: the config is only read as data. This check is what makes that
an honest description of the model rather than a partial one.
"""
from __future__ import annotations

# Keras's own modules, as Keras 3 writes them in "module"
ALLOWED_MODULES = frozenset({
    "keras", "keras.layers", "keras.initializers", "keras.regularizers", "keras.constraints",
    "keras.activations", "keras.models", "keras.src.models.functional", "keras.src.models.sequential",
    "keras.src.models.model",
})
# class names of special (module-less) objects Keras writes inside a config
_PLAIN = frozenset({"__keras_tensor__", "__tuple__"})
_CODE = frozenset({"Lambda", "__lambda__", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer"})
MAX_PROBLEMS = 50


def check_objects(model: dict) -> list[str]:
    """One message per Lambda layer / custom or unknown object in the serialized ``model``
    (its ``compile_config`` is not part of the model and is not read)."""
    problems: list[str] = []
    root = {k: v for k, v in model.items() if k != "compile_config"} if isinstance(model, dict) else model
    stack = [(root, "")]  # (object, enclosing layer name)
    while stack:
        o, where = stack.pop()
        if isinstance(o, list):
            stack.extend((v, where) for v in reversed(o))
            continue
        if not isinstance(o, dict):
            continue
        cls = o.get("class_name")
        if "class_name" in o:
            cfg = o.get("config")
            name = cfg.get("name") if isinstance(cfg, dict) and isinstance(cfg.get("name"), str) else None
            here = name if name and isinstance(cls, str) and not cls.startswith("__") else where
            msg = _problem(o, cls, here or where)
            if msg:
                problems.append(msg)
                if len(problems) >= MAX_PROBLEMS:
                    problems.append("... (more refused objects not listed)")
                    return problems
                if cls in _CODE or cls == "function":
                    continue  # never look inside code
            where = here or where
        stack.extend((v, where) for k, v in reversed(list(o.items())) if k != "class_name")
    return problems


def _at(where: str) -> str:
    return f" (in layer {where!r})" if where else ""


def _problem(o: dict, cls, where: str) -> str | None:
    mod, reg = o.get("module"), o.get("registered_name")
    if not isinstance(cls, str):
        return f"an object with class_name {str(cls)[:60]!r}{_at(where)}: refused"
    if cls in _CODE:
        what = "a Lambda layer holds Python code" if cls in ("Lambda", "__lambda__") else \
            f"{cls} wraps code or a saved graph from another framework"
        return f"Keras layer {where!r} ({cls}): refused: {what}; xnn never runs code from a model file"
    if cls in _PLAIN and mod is None:
        return None
    if cls == "function":
        if mod == "keras.activations" and isinstance(o.get("config"), str) and reg in (None, "function"):
            return None
        return (f"a serialized function {str(o.get('config'))[:60]!r} from module {mod!r}{_at(where)}: refused "
                f"(custom code; xnn never runs code from a model file)")
    if cls.startswith("__"):
        return f"a special object {cls!r}{_at(where)}: refused"
    if mod not in ALLOWED_MODULES:
        return (f"custom object {cls!r} from module {mod!r}{_at(where)}: refused (not one of Keras's own "
                f"classes; xnn never runs code from a model file)")
    if reg is not None and reg != cls:
        return f"custom object {cls!r} registered as {reg!r}{_at(where)}: refused (not one of Keras's own classes)"
    return None
