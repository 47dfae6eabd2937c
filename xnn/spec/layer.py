"""Layer base class: fields, shape rule, parameter shapes, NumPy reference, test cases.

A layer is a frozen pydantic model. Subclasses live one per file in ``xnn/layers/`` and are
registered with :func:`xnn.spec.registry.register`. Shapes are per-sample and channels-last:
images ``(H, W, C)``, signals ``(L, C)``, sequences ``(T, F)``, vectors ``(F,)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from pydantic import BaseModel, ConfigDict

Shape = tuple[int, ...]


class ShapeError(ValueError):
    """Raised by ``Layer.infer`` when input shapes do not fit; ``field`` names the culprit."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Param:
    """One parameter in canonical (ONNX/PyTorch) layout.

    ``init`` is an initializer name from :mod:`xnn.init` with keyword arguments ``init_args``.
    ``group`` is ``weight`` | ``bias`` | ``norm`` | ``embedding`` | ``buffer``; buffers (running
    statistics) are not trained; weight decay exclusions are expressed by group.
    """

    shape: Shape
    init: str = "zeros"
    init_args: dict = field(default_factory=dict)
    group: str = "weight"

    @property
    def trainable(self) -> bool:
        return self.group != "buffer"


@dataclass(frozen=True)
class Case:
    """A parity test case: layer fields and per-sample input shapes (and input kind)."""

    fields: dict
    in_shapes: list[Shape]
    id: str = ""
    input_kind: str = "float"  # float | int:<high> (indices) | positive | padded (zero steps at the end)
    train_ok: bool = True  # gradients are meaningful for this case


class Layer(BaseModel):
    """Base of every layer. Subclasses define ``kind`` and the four methods below."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ClassVar[str] = ""
    version: ClassVar[int] = 1
    arity: ClassVar[tuple[int, int | None]] = (1, 1)  # min, max number of inputs
    doc_shapes: ClassVar[str] = ""
    # the fields the output shape depends on (besides the input shapes); None: all of them.
    # Validation goes on past a node whose other fields are invalid (see ``fallback_shape``).
    shape_fields: ClassVar[tuple[str, ...] | None] = None
    # number of spatial axes the layer reads (Conv1D, the 1-D pools: 1): a rank-2 input (L, C)
    # is then a signal, not a sequence (MATLAB's SCB rather than CBT, see xnn.interop.mat)
    spatial_rank: ClassVar[int] = 0
    # acts on each element alone (Activation, Dropout): a feature order passes through unchanged
    elementwise: ClassVar[bool] = False
    # ``activation: relu`` on this layer parses to a following Activation node (xnn.spec.sugar)
    activation_sugar: ClassVar[bool] = False

    # The string right under a field is its description in ``xnn schema`` (xnn/cli/cmd_schema.py
    # reads these when it builds the schema); a subclass that redeclares a field without one keeps
    # its base's (e.g. ``type``).
    type: str
    """Layer type: the registered class name (e.g. Dense), which selects this entry's fields."""
    name: str = ""
    """Node name (a letter or _, then letters, digits, _); default: the type in lower case + a count (dense1)."""
    inputs: list[str] | None = None
    """Names of the nodes this one reads ("input" is the spec's input); default: the previous node."""
    trainable: bool = True
    """false freezes the node: parameters not trained, inference mode in training (Keras's trainable=False)."""

    # --- the layer contract -------------------------------------------------------------
    def infer(self, in_shapes: list[Shape]) -> Shape:
        """Per-sample output shape for per-sample input shapes; raise ShapeError."""
        raise NotImplementedError

    def fallback_shape(self, in_shapes: list[Shape]) -> Shape | None:
        """After ``infer`` refused ``in_shapes``: the output shape this node's own fields still
        fix (e.g. a Dense's units), so validation can check the nodes after it; None: unknown."""
        return None

    @classmethod
    def output_fields(cls) -> tuple[str, ...] | None:
        """The fields that fix the output shape (``shape_fields``); None: unknown (all of them)."""
        return cls.shape_fields

    def params(self, in_shapes: list[Shape]) -> dict[str, Param]:
        """Canonical parameters of this node (empty for parameter-free layers)."""
        return {}

    def macs(self, in_shapes: list[Shape], out_shape: Shape) -> int:
        """Multiply-accumulates per sample of the matrix products (Dense, convolutions,
        attention, recurrences), the count torchvision and Keras Applications publish as
        "FLOPs"; 0 for layers without them (activations, normalization, pooling)."""
        return 0

    def forward(self, p: dict[str, np.ndarray], xs: list[np.ndarray], training: bool = False) -> np.ndarray:
        """NumPy reference forward on batched inputs (evaluation mode)."""
        raise NotImplementedError

    @classmethod
    def cases(cls) -> list[Case]:
        """Parity test cases for this layer."""
        return []

    # --- helpers ------------------------------------------------------------------------
    @property
    def ident(self) -> str:
        return f"{self.kind}@{self.version}"

    def fields(self) -> dict[str, Any]:
        """Layer-specific fields (no name/inputs/type/trainable)."""
        d = self.model_dump()
        for k in ("type", "name", "inputs", "trainable"):
            d.pop(k, None)
        return d
