"""Canonical (ONNX/PyTorch) weights <-> MATLAB Deep Learning Toolbox layouts, one mapping per kind.

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

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

ONE_D_SPATIAL = ("Conv1D", "MaxPool1D", "AvgPool1D", "GlobalAvgPool1D")
# layers that act elementwise on a vector, so a column-major Flatten order passes through them
TRANSPARENT = ("Activation", "Dropout")


# ------------------------------------------------------------------------------ formats
def rank2_format(spec) -> str:
    """``SCB`` for specs with 1-D spatial layers (signals), else ``CBT`` (sequences)."""
    return "SCB" if any(n.kind in ONE_D_SPATIAL for n in spec.nodes) else "CBT"


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
    ``flatten_order[name]`` is ``column`` or ``row`` for every Flatten node.
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
        return all(c.kind == "Dense" or (c.kind in TRANSPARENT and absorbed(c.name)) for c in cs)

    for n in spec.nodes:
        if n.kind == "Flatten":
            src = n.in_shapes[0]
            col = len(src) >= 2 and absorbed(n.name)
            ctx.flatten_order[n.name] = "column" if col else "row"
            if col:
                ctx.colmajor[n.name] = tuple(src)
        elif n.kind in TRANSPARENT and n.inputs[0] in ctx.colmajor:
            ctx.colmajor[n.name] = ctx.colmajor[n.inputs[0]]
    return ctx


def export_notes(node, ctx: Context) -> dict:
    """Per-layer notes the .m code reads (``export_json`` in the file)."""
    if node.kind == "Flatten":
        return {"order": ctx.flatten_order[node.name]}
    if node.kind == "Dense" and node.inputs[0] in ctx.colmajor:
        return {"input_order": "column", "source_shape": list(ctx.colmajor[node.inputs[0]])}
    return {}


# ------------------------------------------------------------------------------ mappings
Arrays = dict[str, np.ndarray]


@dataclass(frozen=True)
class MatLayout:
    """One layer kind's canonical <-> MATLAB mapping (pure functions of node, arrays, context)."""

    kind: str
    to_mat: Callable[..., Arrays]
    from_mat: Callable[..., Arrays]


def _dense_perm(node, ctx: Context) -> np.ndarray | None:
    """Column permutation ``p`` with ``W_mat = W[:, p]`` for a Dense after a column-major Flatten."""
    src = ctx.colmajor.get(node.inputs[0])
    if src is None:
        return None
    # MATLAB column j holds xnn's row-major feature index rowmajor[j]
    return np.arange(int(np.prod(src))).reshape(src).reshape(-1, order="F")


def _dense_to(node, p, ctx):
    w = p["weight"]
    perm = _dense_perm(node, ctx)
    out = {"Weights": w[:, perm] if perm is not None else w}
    if "bias" in p:
        out["Bias"] = p["bias"].reshape(-1, 1)
    return out


def _dense_from(node, m, ctx):
    w = m["Weights"]
    perm = _dense_perm(node, ctx)
    if perm is not None:
        inv = np.empty_like(perm)
        inv[perm] = np.arange(perm.size)
        w = w[:, inv]
    out = {"weight": w}
    if "Bias" in m:
        out["bias"] = m["Bias"].reshape(-1)
    return out


def _conv_to(node, p, ctx):
    """(O, Cg, *k) -> k.. x C x F (groups 1) or k.. x Cg x Fg x G; bias 1.. x F or 1.. x Fg x G."""
    w = p["weight"]
    g = node.layer.groups
    nd = w.ndim - 2
    o, cg, k = w.shape[0], w.shape[1], w.shape[2:]
    ks = tuple(range(2, 2 + nd))
    ones = (1,) * nd
    if g == 1:
        out = {"Weights": w.transpose(*ks, 1, 0)}
        if "bias" in p:
            out["Bias"] = p["bias"].reshape(*ones, o)
        return out
    fg = o // g
    # group g owns output channels g*Fg .. (g+1)*Fg-1 (same in PyTorch and MATLAB)
    w5 = w.reshape(g, fg, cg, *k).transpose(*(i + 1 for i in ks), 2, 1, 0)
    out = {"Weights": w5}
    if "bias" in p:
        out["Bias"] = p["bias"].reshape(g, fg).T.reshape(*ones, fg, g)
    return out


def _conv_from(node, m, ctx):
    g = node.layer.groups
    shape = node.params["weight"].shape
    o, cg, k = shape[0], shape[1], shape[2:]
    nd = len(k)
    w = m["Weights"]
    if g == 1:
        out = {"weight": w.transpose(nd + 1, nd, *range(nd))}
        if "Bias" in m:
            out["bias"] = m["Bias"].reshape(o)
        return out
    fg = o // g
    # (k.., Cg, Fg, G) -> (G, Fg, Cg, k..)
    w = w.reshape(*k, cg, fg, g).transpose(nd + 2, nd + 1, nd, *range(nd)).reshape(o, cg, *k)
    out = {"weight": w}
    if "Bias" in m:
        out["bias"] = m["Bias"].reshape(fg, g).T.reshape(o)
    return out


_NORM_NAMES = {"weight": "Scale", "bias": "Offset", "running_mean": "TrainedMean", "running_var": "TrainedVariance"}


def _norm_to(node, p, ctx):
    shape = channel_shape(ctx.in_format(node), node.in_shapes[0][-1])
    return {_NORM_NAMES[k]: v.reshape(shape) for k, v in p.items()}


def _norm_from(node, m, ctx):
    inv = {v: k for k, v in _NORM_NAMES.items()}
    return {inv[k]: v.reshape(-1) for k, v in m.items()}


def _emb_to(node, p, ctx):
    # wordEmbeddingLayer: Dimension x NumWords; positionEmbeddingLayer: OutputSize x MaxPosition
    return {"Weights": p["weight"].T} if "weight" in p else {}


def _emb_from(node, m, ctx):
    return {"weight": m["Weights"].T} if "Weights" in m else {}


def _rnn_keys(node) -> list[str]:
    return [f"l{k}{s}" for k in range(node.layer.num_layers) for s in node.layer.suffixes()]


def _rnn_to(node, p, ctx):
    """Per layer/direction key ``l0``, ``l0_reverse``...: InputWeights (G*H x in), RecurrentWeights
    (G*H x H), Bias. Gate rows keep PyTorch's order, which is MATLAB's (LSTM i,f,g,o; GRU r,z,h).
    LSTM Bias (4H x 1) is xnn's single bias; GRU Bias (6H x 1) = [bias_ih; bias_hh], MATLAB's
    'recurrent-bias-after-multiplication' mode."""
    out = {}
    for key in _rnn_keys(node):
        out[f"InputWeights_{key}"] = p[f"weight_ih_{key}"]
        out[f"RecurrentWeights_{key}"] = p[f"weight_hh_{key}"]
        if node.kind == "GRU":
            out[f"Bias_{key}"] = np.concatenate([p[f"bias_ih_{key}"], p[f"bias_hh_{key}"]]).reshape(-1, 1)
        else:
            out[f"Bias_{key}"] = p[f"bias_{key}"].reshape(-1, 1)
    return out


def _rnn_from(node, m, ctx):
    out = {}
    for key in _rnn_keys(node):
        out[f"weight_ih_{key}"] = m[f"InputWeights_{key}"]
        out[f"weight_hh_{key}"] = m[f"RecurrentWeights_{key}"]
        b = m[f"Bias_{key}"].reshape(-1)
        if node.kind == "GRU":
            half = b.size // 2
            out[f"bias_ih_{key}"], out[f"bias_hh_{key}"] = b[:half], b[half:]
        else:
            out[f"bias_{key}"] = b
    return out


_MHA_NAMES = {"q_weight": "QueryWeights", "k_weight": "KeyWeights", "v_weight": "ValueWeights",
              "out_weight": "OutputWeights", "q_bias": "QueryBias", "k_bias": "KeyBias", "v_bias": "ValueBias",
              "out_bias": "OutputBias"}


def _mha_to(node, p, ctx):
    """selfAttentionLayer names; weights keep the Dense layout (out x in), head h owns a contiguous
    block of rows (MATLAB's too); biases are columns."""
    return {_MHA_NAMES[k]: (v.reshape(-1, 1) if v.ndim == 1 else v) for k, v in p.items()}


def _mha_from(node, m, ctx):
    inv = {v: k for k, v in _MHA_NAMES.items()}
    return {inv[k]: (v.reshape(-1) if k.endswith("Bias") else v) for k, v in m.items()}


def _none_to(node, p, ctx):
    return {}


_NO_WEIGHTS = ("Activation", "MaxPool1D", "MaxPool2D", "AvgPool1D", "AvgPool2D", "GlobalAvgPool1D",
               "GlobalAvgPool2D", "Flatten", "Reshape", "Dropout", "Add", "Concatenate", "SequenceMask",
               "MaskedGlobalAvgPool1D", "MaskedGlobalMaxPool1D")

LAYOUTS: dict[str, MatLayout] = {
    "Dense": MatLayout("Dense", _dense_to, _dense_from),
    "Conv1D": MatLayout("Conv1D", _conv_to, _conv_from),
    "Conv2D": MatLayout("Conv2D", _conv_to, _conv_from),
    "BatchNorm": MatLayout("BatchNorm", _norm_to, _norm_from),
    "LayerNorm": MatLayout("LayerNorm", _norm_to, _norm_from),
    "Embedding": MatLayout("Embedding", _emb_to, _emb_from),
    "PositionalEmbedding": MatLayout("PositionalEmbedding", _emb_to, _emb_from),  # OutputSize x MaxPosition
    "MultiHeadAttention": MatLayout("MultiHeadAttention", _mha_to, _mha_from),
    "LSTM": MatLayout("LSTM", _rnn_to, _rnn_from),
    "GRU": MatLayout("GRU", _rnn_to, _rnn_from),
    **{k: MatLayout(k, _none_to, _none_to) for k in _NO_WEIGHTS},
}

# the .m file that runs each kind in matlab/+xnn/+layers/ (``reshape`` would shadow a builtin)
M_FUNCTIONS: dict[str, str] = {k: k.lower() for k in LAYOUTS}
M_FUNCTIONS["Reshape"] = "reshapelayer"


def expected_mat_shapes(node, ctx: Context) -> dict[str, tuple[int, ...]]:
    """MATLAB weight names and shapes of ``node`` (from its canonical shapes)."""
    zeros = {k: np.zeros(p.shape) for k, p in node.params.items()}
    return {k: v.shape for k, v in LAYOUTS[node.kind].to_mat(node, zeros, ctx).items()}


def strip_trailing_ones(shape: tuple[int, ...]) -> tuple[int, ...]:
    """MATLAB drops trailing singleton dims (keeping 2): compare shapes without them."""
    s = list(shape) + [1] * max(0, 2 - len(shape))
    while len(s) > 2 and s[-1] == 1:
        s.pop()
    return tuple(s)
