"""Spec parsing, validation and shape inference. Never imports torch or tensorflow."""
from .layer import Case, Layer, Param, Shape, ShapeError
from .model import SPEC_VERSION, Node, Spec, apply_overrides, from_dict, load_spec
from .registry import layers, register

__all__ = ["Case", "Layer", "Node", "Param", "SPEC_VERSION", "Shape", "ShapeError", "Spec",
           "apply_overrides", "from_dict", "layers", "load_spec", "register"]
