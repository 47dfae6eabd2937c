"""ConvTranspose1D and ConvTranspose2D: transposed (fractionally strided) convolution, the
gradient of Conv with respect to its input (channels-last).

Shapes: ConvTranspose1D ``(L, C)`` -> ``(L', filters)``; ConvTranspose2D ``(H, W, C)`` ->
``(H', W', filters)``. Canonical params, PyTorch's ``ConvTranspose`` layout: ``weight (C,
filters/groups, *kernel)`` and ``bias (filters,)``, both U(±1/sqrt(filters/groups * prod(kernel)))
(PyTorch's: its fan-in is ``weight.size(1) * prod(kernel)``).

Per spatial axis, with ``k_eff = dilation*(k - 1) + 1``, every input cell ``i`` adds its
contribution to cells ``i*s + j*dilation`` (``j < k``) of the *full* output of length
``L_full = (L - 1)*s + k_eff``. The output is the full one with ``lo`` cells cut at the start and
``hi`` at the end (``hi < 0``: ``-hi`` cells of zeros appended), then the bias added to every
cell:

- ``padding: valid`` (default): ``lo = 0``, ``hi = -output_padding`` (torch ``padding=0``; ONNX
  without pads). Keras's ``valid`` differs where ``stride > kernel``: it outputs ``L*s``.
- ``padding: p`` (an int or one per axis, torch's ``padding``): ``lo = p``,
  ``hi = p - output_padding``, so ``L' = (L-1)*s - 2p + k_eff + output_padding``.
- ``padding: same``: ``L' = L*s`` (Keras ``Conv*DTranspose(padding="same")``, TF's
  ``conv2d_transpose(SAME)``, ONNX ``SAME_UPPER``): ``t = k_eff - s``; ``lo = t // 2``,
  ``hi = t - t // 2`` (the extra cell cut at the end) when ``t >= 0``; ``lo = 0, hi = t`` (zeros
  appended) when the stride exceeds the kernel. ``output_padding`` must be 0.

``output_padding`` (default 0) must be smaller than ``max(stride, dilation)`` (PyTorch's rule).
Groups: input channels ``g*C/G ..`` feed output channels ``g*F/G ..`` (PyTorch's convention).
"""
from __future__ import annotations

from typing import ClassVar, Literal, Union

import numpy as np
from pydantic import NonNegativeInt, PositiveInt

from ..spec.layer import Layer, Param, ShapeError
from . import _conv

IntOrList = Union[PositiveInt, list[PositiveInt]]
Padding = Union[Literal["valid", "same"], NonNegativeInt, list[NonNegativeInt]]
Crops = list[tuple[int, int]]


def full_len(L: int, k: int, s: int, d: int) -> int:
    return (L - 1) * s + d * (k - 1) + 1


def crops(padding, op, spatial, k, s, d) -> Crops:
    """Per-axis ``(lo, hi)`` cut from the full output (``hi < 0``: zeros appended)."""
    nd = len(spatial)
    if padding == "same":
        out = []
        for i in range(nd):
            t = d[i] * (k[i] - 1) + 1 - s[i]
            out.append((t // 2, t - t // 2) if t >= 0 else (0, t))
        return out
    p = (0,) * nd if padding == "valid" else _conv.as_tuple(padding, nd, "padding")
    return [(p[i], p[i] - op[i]) for i in range(nd)]


def conv_transpose(x, w, b, s, d, cut: Crops, groups: int) -> np.ndarray:
    """NumPy transposed convolution; ``x (N, *S, C)``, ``w (C, F/groups, *k)``; returns ``(N, *S', F)``."""
    nd = w.ndim - 2
    n, *S, c = x.shape
    k = w.shape[2:]
    cg, fg = c // groups, w.shape[1]
    full = [full_len(S[i], k[i], s[i], d[i]) for i in range(nd)]
    y = np.zeros((n, *full, groups, fg), dtype=np.result_type(x, w))
    xg = x.reshape(n, *S, groups, cg)
    wg = w.reshape(groups, cg, fg, *k)
    for tap in np.ndindex(*k):
        contrib = np.einsum("n...gc,gcf->n...gf", xg, wg[(slice(None),) * 3 + tap], optimize=True)
        idx = (slice(None),) + tuple(slice(tap[i] * d[i], tap[i] * d[i] + (S[i] - 1) * s[i] + 1, s[i]) for i in range(nd))
        y[idx] += contrib
    y = y.reshape(n, *full, groups * fg)
    pad = [(0, 0)] + [(0, max(-hi, 0)) for _, hi in cut] + [(0, 0)]
    y = np.pad(y, pad)
    idx = (slice(None),) + tuple(slice(lo, full[i] - hi) for i, (lo, hi) in enumerate(cut)) + (slice(None),)
    y = y[idx]
    return y + b if b is not None else y


class _ConvTransposeBase(Layer):
    nd: ClassVar[int] = 2
    shape_fields = ("filters", "kernel_size", "strides", "padding", "output_padding", "dilation")
    activation_sugar = True
    filters: PositiveInt
    """Output channels."""
    kernel_size: IntOrList
    """Kernel size, an int or one per spatial axis."""
    strides: IntOrList = 1
    """Upsampling stride: input cell i feeds output cells from i·s on; an int or one per spatial axis."""
    padding: Padding = "valid"
    """valid (torch's padding=0), same (output L·s, Keras's) or cells cut at each end (torch's padding; int/axis)."""
    output_padding: Union[NonNegativeInt, list[NonNegativeInt]] = 0
    """Extra cells kept at the end of each spatial axis (torch's output_padding), an int or one per axis."""
    dilation: IntOrList = 1
    """Spacing between kernel taps, an int or one per spatial axis."""
    groups: PositiveInt = 1
    """Channel groups (must divide C and filters), each input group feeds its output group."""
    use_bias: bool = True
    """Add a learned bias per output channel."""

    def geometry(self, in_shape):
        """``(kernel, strides, dilation, output_padding, crops)`` for a per-sample input shape."""
        nd = self.nd
        if len(in_shape) != nd + 1:
            raise ShapeError(f"{self.kind} needs a rank-{nd + 1} per-sample input (spatial..., channels)")
        k = _conv.as_tuple(self.kernel_size, nd, "kernel_size")
        s = _conv.as_tuple(self.strides, nd, "strides")
        d = _conv.as_tuple(self.dilation, nd, "dilation")
        op = _conv.as_tuple(self.output_padding, nd, "output_padding")
        if self.padding == "same" and any(op):
            raise ShapeError("must be 0 with padding 'same' (the output is input * stride)", "output_padding")
        for i in range(nd):
            if op[i] >= max(s[i], d[i]):
                raise ShapeError(f"{list(op)} must be smaller than the stride or the dilation "
                                 f"(strides {list(s)}, dilation {list(d)})", "output_padding")
        return k, s, d, op, crops(self.padding, op, in_shape[:nd], k, s, d)

    def _out(self, shape):
        k, s, d, _, cut = self.geometry(shape)
        return [full_len(shape[i], k[i], s[i], d[i]) - lo - hi for i, (lo, hi) in enumerate(cut)]

    def infer(self, in_shapes):
        (shape,) = in_shapes
        out = self._out(shape)
        c = shape[-1]
        if c % self.groups:
            raise ShapeError(f"input channels {c} not divisible by groups {self.groups}", "groups")
        if self.filters % self.groups:
            raise ShapeError(f"filters {self.filters} not divisible by groups {self.groups}", "filters")
        if any(o < 1 for o in out):
            raise ShapeError(f"padding removes the whole output: it would be {out}", "padding")
        return (*out, self.filters)

    def fallback_shape(self, in_shapes):
        if len(in_shapes) != 1:
            return None
        out = self._out(in_shapes[0])  # ShapeError where the spatial rule itself fails
        return (*out, self.filters) if all(o >= 1 for o in out) else None

    def macs(self, in_shapes, out_shape):
        """Every input cell times the whole kernel of its group (PyTorch's count for transposed
        convolutions: cut or appended output cells change nothing)."""
        shape = in_shapes[0]
        k = _conv.as_tuple(self.kernel_size, self.nd, "kernel_size")
        return int(np.prod(shape[:-1])) * shape[-1] * (self.filters // self.groups) * int(np.prod(k))

    def params(self, in_shapes):
        shape = in_shapes[0]
        k = _conv.as_tuple(self.kernel_size, self.nd, "kernel_size")
        fg = self.filters // self.groups
        bound = 1.0 / np.sqrt(fg * int(np.prod(k)))
        p = {"weight": Param((shape[-1], fg, *k), "uniform", {"bound": bound}, "weight")}
        if self.use_bias:
            p["bias"] = Param((self.filters,), "uniform", {"bound": bound}, "bias")
        return p

    def forward(self, p, xs, training=False):
        _, s, d, _, cut = self.geometry(xs[0].shape[1:])
        return conv_transpose(xs[0], p["weight"], p.get("bias"), s, d, cut, self.groups)
