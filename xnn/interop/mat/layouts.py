"""Canonical (ONNX/PyTorch) weights <-> MATLAB Deep Learning Toolbox layouts: the registry, the
dlarray formats and the graph context. The mapping of each kind is its own file,
``xnn/interop/mat/layers/<kind>.py`` (a :class:`MatLayout` subclass); a kind without one has no
weights and no notes.

Every mapping is a pair of pure functions ``to_mat(node, params, ctx)`` / ``from_mat(node,
weights, ctx)`` with an exact round trip (only transposes and reshapes, no arithmetic).
scipy keeps subscripts (numpy ``A[i, j, k]`` is MATLAB ``A(i+1, j+1, k+1)``), so arrays are built
here in MATLAB's logical layout and written as they are.

dlarray formats of a per-sample shape (channels-last in xnn):

- rank 1 ``(F,)``           -> ``CB``    (F x N)
- rank 2 ``(L, C)``/(T, F)  -> ``SCB``   (L x C x N) when the spec has a 1-D spatial layer
                               (Conv1D, pools 1-D), else ``CBT`` (F x N x T)
- rank k+1 ``(S1..Sk, C)``  -> ``S..SCB`` (S1 x .. x Sk x C x N), k >= 2
- integer inputs (indices) get a trailing channel of size 1 first: ``(T,)`` -> ``CBT`` 1 x N x T.
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np

Arrays = dict[str, np.ndarray]


# ------------------------------------------------------------------------------ formats
def rank2_format(spec) -> str:
    """``SCB`` for specs with 1-D spatial layers (signals, ``Layer.spatial_rank == 1``), else
    ``CBT`` (sequences)."""
    return "SCB" if any(n.layer.spatial_rank == 1 for n in spec.nodes) else "CBT"


def dl_format(shape: tuple[int, ...], r2: str, is_int: bool = False) -> str:
    """dlarray labels of a batch of per-sample ``shape`` (see the module docstring)."""
    rank = len(shape) + (1 if is_int else 0)
    if rank == 1:
        return "CB"
    if rank == 2:
        return r2
    return "S" * (rank - 1) + "CB"


def to_dlarray_order(x: np.ndarray, fmt: str, is_int: bool = False) -> np.ndarray:
    """xnn batch ``(N, *shape)`` channels-last -> MATLAB dlarray order for ``fmt``."""
    if is_int:
        x = x[..., None]
    if fmt == "CB":
        return np.ascontiguousarray(x.T)
    if fmt == "CBT":  # (N, T, C) -> C x N x T
        return np.ascontiguousarray(x.transpose(2, 0, 1))
    k = x.ndim  # S..SCB: batch goes last
    return np.ascontiguousarray(x.transpose(*range(1, k), 0))


def from_dlarray_order(x: np.ndarray, fmt: str, is_int: bool = False) -> np.ndarray:
    """Inverse of :func:`to_dlarray_order`."""
    if fmt == "CB":
        y = x.T
    elif fmt == "CBT":
        y = x.transpose(1, 2, 0)
    else:
        k = x.ndim
        y = x.transpose(k - 1, *range(k - 1))
    return np.ascontiguousarray(y[..., 0] if is_int else y)


def channel_shape(fmt: str, c: int) -> tuple[int, ...]:
    """Shape of a per-channel MATLAB parameter: 1x1xC for SSCB, 1xC for SCB, Cx1 for CB/CBT."""
    ns = fmt.count("S")
    return (1,) * ns + (c,) if ns else (c, 1)


# ------------------------------------------------------------------------------ context
@dataclass
class Context:
    """Facts about the whole graph that single-node mappings need.

    ``colmajor[name]`` is the per-sample shape (H, W, C) that was flattened column-major
    (MATLAB ``flattenLayer`` order, h fastest, then w, then c) into the output of node ``name``;
    absent when that output is in xnn's own (H, W, C) row-major order.
    ``flatten_order[name]`` is ``column`` or ``row`` for every Flatten node (``flattens``).
    """

    r2: str
    formats: dict[str, str] = field(default_factory=dict)
    colmajor: dict[str, tuple[int, ...]] = field(default_factory=dict)
    flatten_order: dict[str, str] = field(default_factory=dict)

    def in_format(self, node, i: int = 0) -> str:
        return self.formats[node.inputs[i]]


def build_context(spec) -> Context:
    """Formats of every tensor and the Flatten orders.

    A Flatten of a rank >= 2 input is written column-major (MATLAB's flattenLayer) when every
    path from it reaches a Dense through elementwise layers only: those Dense weights are then
    permuted so the result is unchanged. Otherwise (the flattened vector is the output, or feeds
    a BatchNorm, Add, ...) it keeps xnn's row-major (H, W, C) order and the .m code permutes.
    """
    r2 = rank2_format(spec)
    is_int = spec.input.dtype.startswith("int")
    ctx = Context(r2=r2)
    ctx.formats["input"] = dl_format(spec.input_shape, r2, is_int)
    consumers: dict[str, list] = {}
    for n in spec.nodes:
        for i in n.inputs:
            consumers.setdefault(i, []).append(n)
        ctx.formats[n.name] = dl_format(n.out_shape, r2)
    out_name = spec.output.name

    def absorbed(name: str) -> bool:
        cs = consumers.get(name, [])
        if name == out_name or not cs:
            return False
        return all(layout(c).absorbs_order or (c.layer.elementwise and absorbed(c.name)) for c in cs)

    for n in spec.nodes:
        if layout(n).flattens:
            src = n.in_shapes[0]
            col = len(src) >= 2 and absorbed(n.name)
            ctx.flatten_order[n.name] = "column" if col else "row"
            if col:
                ctx.colmajor[n.name] = tuple(src)
        elif n.layer.elementwise and n.inputs[0] in ctx.colmajor:
            ctx.colmajor[n.name] = ctx.colmajor[n.inputs[0]]
    return ctx


# ------------------------------------------------------------------------------ registry
_LAYOUTS: dict[str, "MatLayout"] = {}


class MatLayout:
    """One layer kind's canonical <-> MATLAB mapping. The defaults: no weights, no notes."""

    kind: ClassVar[str] = ""
    # a Flatten: written in MATLAB's column-major order where its consumers absorb the order
    flattens: ClassVar[bool] = False
    # takes a column-major flattened input by permuting its own weights (Dense)
    absorbs_order: ClassVar[bool] = False

    def __init_subclass__(cls, **kw):
        super().__init_subclass__(**kw)
        if cls.kind:
            if cls.kind in _LAYOUTS:
                raise RuntimeError(f".mat layout for {cls.kind} registered twice")
            _LAYOUTS[cls.kind] = cls()

    def to_mat(self, node, params: Arrays, ctx: Context) -> Arrays:
        """Canonical params of ``node`` -> MATLAB-named arrays in MATLAB's layout."""
        return {}

    def from_mat(self, node, weights: Arrays, ctx: Context) -> Arrays:
        """Inverse of :meth:`to_mat`."""
        return {}

    def notes(self, node, ctx: Context) -> dict:
        """Per-layer notes the .m code reads (``export_json`` in the file)."""
        return {}


_DEFAULT = MatLayout()
_loaded = False


def mat_layouts() -> dict[str, MatLayout]:
    """Kinds with their own mapping file, after importing every ``xnn.interop.mat.layers`` module."""
    global _loaded
    if not _loaded:
        pkg = importlib.import_module("xnn.interop.mat.layers")
        for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
            if not m.name.startswith("_"):
                importlib.import_module(f"xnn.interop.mat.layers.{m.name}")
        _loaded = True
    return dict(_LAYOUTS)


def layout(node) -> MatLayout:
    """The mapping of ``node``'s kind; the no-weights default for a kind without a file.

    Raises ``KeyError`` for a node that has parameters but no mapping (nothing would store them).
    """
    found = mat_layouts().get(node.kind)
    if found is None and node.params:
        raise KeyError(node.kind)
    return found or _DEFAULT


def unmapped(spec) -> list[str]:
    """Kinds in ``spec`` that have parameters and no .mat mapping (sorted)."""
    have = mat_layouts()
    return sorted({n.kind for n in spec.nodes if n.params and n.kind not in have})


def export_notes(node, ctx: Context) -> dict:
    """Per-layer notes the .m code reads (``export_json`` in the file)."""
    return layout(node).notes(node, ctx)


def expected_mat_shapes(node, ctx: Context) -> dict[str, tuple[int, ...]]:
    """MATLAB weight names and shapes of ``node`` (from its canonical shapes)."""
    zeros = {k: np.zeros(p.shape) for k, p in node.params.items()}
    return {k: v.shape for k, v in layout(node).to_mat(node, zeros, ctx).items()}


def strip_trailing_ones(shape: tuple[int, ...]) -> tuple[int, ...]:
    """MATLAB drops trailing singleton dims (keeping 2): compare shapes without them."""
    s = list(shape) + [1] * max(0, 2 - len(shape))
    while len(s) > 2 and s[-1] == 1:
        s.pop()
    return tuple(s)
