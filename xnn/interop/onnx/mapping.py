"""ONNX mapping registry and the graph builder the mappings write into.

A mapping lowers one layer kind to ONNX nodes. Layout: tensors with spatial axes flow
channels-first (``cf``, NCHW as ONNX's Conv/pool/BatchNormalization need) between mappings that
want it and channels-last (``cl``, xnn's own) elsewhere; :mod:`.export` inserts Transposes only
where neighbours disagree (the same rule as the torch backend's compiled module).
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import ClassVar

import numpy as np

_MAPPINGS: dict[str, "OnnxMapping"] = {}


def cl_axis_to_cf(axis: int, rank: int) -> int:
    """A channels-last axis of a rank-``rank`` batch tensor -> the same axis in channels-first."""
    ax = axis % rank
    if rank < 3 or ax == 0:
        return ax
    return 1 if ax == rank - 1 else ax + 1


def perm_to_cf(rank: int) -> list[int]:
    """Transpose perm (N, *S, C) -> (N, C, *S)."""
    return [0, rank - 1, *range(1, rank - 1)]


def perm_to_cl(rank: int) -> list[int]:
    """Transpose perm (N, C, *S) -> (N, *S, C)."""
    return [0, *range(2, rank), 1]


def onnx_pads(pads: list[tuple[int, int]]) -> list[int]:
    """xnn per-axis (lo, hi) pads -> ONNX ``pads`` ([begins..., ends...])."""
    return [lo for lo, _ in pads] + [hi for _, hi in pads]


class Graph:
    """Collects nodes and initializers for one export; ``opset`` and ``dtype`` are fixed."""

    def __init__(self, opset: int, dtype: str):
        from onnx import helper

        self.opset = opset
        self.dtype = np.dtype(dtype)
        self.elem_type = helper.np_dtype_to_tensor_dtype(self.dtype)
        self.nodes: list = []
        self.initializers: list = []
        self._used: set[str] = {"input", "output"}

    def fresh(self, base: str) -> str:
        """A tensor/node name not used yet, derived from ``base``."""
        name, i = base, 1
        while name in self._used:
            i += 1
            name = f"{base}_{i}"
        self._used.add(name)
        return name

    def init(self, name: str, value: np.ndarray, dtype: str | np.dtype | None = None) -> str:
        """Add an initializer (cast to the export dtype unless ``dtype`` is given)."""
        from onnx import numpy_helper

        arr = np.array(value, dtype=self.dtype if dtype is None else dtype, order="C")  # keeps 0-d scalars 0-d
        n = self.fresh(name)
        self.initializers.append(numpy_helper.from_array(arr, n))
        return n

    def scalar(self, name: str, value: float) -> str:
        return self.init(name, np.array(value))

    def ints(self, name: str, values) -> str:
        return self.init(name, np.asarray(values, dtype=np.int64), np.int64)

    def op(self, op_type: str, inputs: list[str], name: str, n_out: int = 1, **attrs) -> str:
        """Add a node; returns its (first) output name. ``name`` seeds node and output names."""
        from onnx import helper

        outs = [self.fresh(name if i == 0 else f"{name}_out{i}") for i in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=self.fresh(f"{name}/{op_type}"), **attrs))
        return outs[0]

    def transpose(self, x: str, perm: list[int], name: str) -> str:
        return self.op("Transpose", [x], name, perm=perm)


class OnnxMapping:
    """Lowers one layer kind. Subclasses set ``kind`` and ``layout`` and implement ``emit``.

    ``layout``: ``cf`` (inputs with spatial axes arrive channels-first), ``cl`` (as xnn keeps
    them) or ``any`` (elementwise; ``layout`` argument of ``emit`` says which it got).
    """

    kind: ClassVar[str] = ""
    layout: ClassVar[str] = "cl"

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.kind:
            if cls.kind in _MAPPINGS:
                raise RuntimeError(f"ONNX mapping for {cls.kind} registered twice")
            _MAPPINGS[cls.kind] = cls()

    def unsupported(self, node, opset: int) -> str | None:
        """Why ``node`` cannot be written at ``opset`` (None when it can); checked before writing."""
        return None

    def emit(self, node, g: Graph, xs: list[str], params: dict[str, np.ndarray], layout: str) -> str:
        """Write the node's ONNX nodes; ``xs`` are input tensor names; returns the output name."""
        raise NotImplementedError


def mappings() -> dict[str, OnnxMapping]:
    """Layer kind -> mapping, after importing every module of ``xnn.interop.onnx.layers``."""
    pkg = importlib.import_module("xnn.interop.onnx.layers")
    for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if not m.name.startswith("_"):
            importlib.import_module(f"xnn.interop.onnx.layers.{m.name}")
    return _MAPPINGS
