"""One conversion per Keras layer class: a Keras layer's config (the dict Keras writes to
config.json, which a live model's ``get_config`` also gives) becomes xnn nodes, and its Keras
weights become the weight list of the xnn Keras lowering of the node that owns them, so that the
lowering's own ``from_native`` turns them into canonical params (one conversion per layer).

A converter is ``fn(b, lay, xs) -> str``: ``b`` the :class:`~xnn.interop.keras.graph.Builder`,
``lay`` the :class:`~xnn.interop.keras.graph.KerasLayer`, ``xs`` the xnn node names of its
inputs; it returns the xnn node holding the layer's output. ``lay.fail(msg)`` refuses the layer
(every refusal of a model is reported at once). Nothing here imports a framework.

Semantics converted (docs/import.md lists them):
- the activation of Dense/Conv/RNN layers becomes its own Activation node;
- BatchNormalization's momentum ``m`` (weight of the old value) becomes xnn's ``1 - m`` (weight
  of the batch), ``epsilon`` becomes ``eps``; center/scale ``False`` become zeros/ones;
- DepthwiseConv (kernel ``(*k, C, M)``) becomes Conv with ``groups = C``, ``filters = C*M``;
  SeparableConv becomes a depthwise Conv (no bias) and a 1x1 Conv;
- LSTM gate order i,f,c,o is xnn's i,f,g,o, its one bias xnn's ``bias_ih`` (``bias_hh`` = 0); GRU needs ``reset_after=True`` (xnn's and
  PyTorch's convention), its (z, r, h) gate blocks go through the GRU lowering's permutation;
- Bidirectional(LSTM|GRU) with merge_mode concat|sum is a bidirectional node;
- Keras's implicit masks (Embedding ``mask_zero=True``, Masking) become explicit SequenceMask
  inputs of the layers that use them (:mod:`.masking`; exact for right-padded sequences);
- ZeroPadding folds into the valid convolution that reads it when symmetric, else it is a
  ZeroPadding node; Conv*DTranspose ``valid`` keeps Keras's output length through xnn's
  ``output_padding``; GroupNormalization keeps Keras's epsilon; UpSampling2D is nearest only.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

CONVERTERS: dict[str, Callable] = {}


def converts(*classes: str):
    def deco(fn):
        for c in classes:
            CONVERTERS[c] = fn
        return fn

    return deco


class Unsupported(Exception):
    """This layer (or one of its settings) has no exact xnn equivalent."""


# ------------------------------------------------------------------------------ activations
# Keras activation name -> xnn Activation fields (None: the identity). Keras's defaults:
# activations.gelu is exact (approximate=False), activations.leaky_relu's slope is 0.2.
# Keras 3's hard_sigmoid is relu6(x + 3) / 6 (xnn's; Keras 2's was clip(0.2x + 0.5, 0, 1)), and
# hard_silu / hard_swish is x * hard_sigmoid(x).
_ACTS = {
    "linear": None, "relu": {"fn": "relu"}, "sigmoid": {"fn": "sigmoid"}, "tanh": {"fn": "tanh"},
    "softmax": {"fn": "softmax"}, "elu": {"fn": "elu"}, "gelu": {"fn": "gelu"}, "silu": {"fn": "silu"},
    "swish": {"fn": "silu"}, "leaky_relu": {"fn": "leaky_relu", "negative_slope": 0.2},
    "relu6": {"fn": "relu6"}, "hard_sigmoid": {"fn": "hard_sigmoid"}, "hard_silu": {"fn": "hard_swish"},
    "hard_swish": {"fn": "hard_swish"},
}


def activation_name(a) -> str:
    """The name of a serialized Keras activation (``"relu"``, or Keras's function dict)."""
    if a is None:
        return "linear"
    if isinstance(a, str):
        return a
    if isinstance(a, dict) and isinstance(a.get("config"), str) and a.get("module") == "keras.activations":
        return a["config"]
    raise Unsupported(f"activation {str(a)[:60]} is not a built-in Keras activation")


def activation_fields(a) -> dict | None:
    name = activation_name(a)
    if name not in _ACTS:
        raise Unsupported(f"activation {name!r} (xnn has {', '.join(sorted(_ACTS))})")
    f = _ACTS[name]
    return None if f is None else {"type": "Activation", **f}


def with_activation(b, lay, x: str, key: str = "activation") -> str:
    """Append the layer's activation (if not linear) as its own node after ``x``."""
    f = activation_fields(lay.get(key, "linear"))
    if f is None:
        return x
    return b.add(f, [x], hint=f"{lay.xname}_{f['fn']}")


# ------------------------------------------------------------------------------ helpers
def _ints(lay, key: str, nd: int, default=None) -> list[int]:
    v = lay.get(key, default)
    v = [v] * nd if isinstance(v, int) and not isinstance(v, bool) else v
    if not isinstance(v, (list, tuple)) or len(v) != nd or not all(
            isinstance(i, int) and not isinstance(i, bool) and i > 0 for i in v):
        lay.fail(f"{key}={v!r}: expected {nd} positive integer(s)")
    return [int(i) for i in v]


def _one(v: list[int]):
    return v[0] if len(set(v)) == 1 else v


_DEFAULTS = {"strides": 1, "dilation": 1, "groups": 1, "use_bias": True, "padding": "valid"}


def _lean(fields: dict) -> dict:
    """Leave out fields equal to xnn's defaults (a readable spec.yaml)."""
    return {k: v for k, v in fields.items() if not (k in _DEFAULTS and v == _DEFAULTS[k])}


def channels_last(lay) -> None:
    df = lay.get("data_format", "channels_last")
    if df not in (None, "channels_last"):
        lay.fail(f"data_format={df!r}: xnn is channels-last (rebuild the model with channels_last)")


def expect(lay, **allowed) -> None:
    """Refuse settings xnn cannot express: each ``key=value`` is the only accepted value
    (a tuple: any of them)."""
    for k, ok in allowed.items():
        v = lay.get(k, ok[0] if isinstance(ok, tuple) else ok)
        oks = ok if isinstance(ok, tuple) else (ok,)
        if v not in oks:
            lay.fail(f"{k}={v!r} is not supported (only {' or '.join(repr(o) for o in oks)})")


def _no_lora(lay) -> None:
    expect(lay, lora_rank=(None, 0), quantization_config=None)


def _n_weights(lay, w: list, n: int) -> list:
    if len(w) != n:
        lay.fail(f"has {len(w)} weight arrays; its config implies {n}")
    return w


# ------------------------------------------------------------------------------ layers
@converts("Dense")
def dense(b, lay, xs):
    _no_lora(lay)
    use_bias = bool(lay.get("use_bias", True))
    w = _n_weights(lay, lay.weights(), 2 if use_bias else 1)
    y = b.add(_lean({"type": "Dense", "units": lay.int("units"), "use_bias": use_bias}), xs, name=lay.xname, native=w)
    return with_activation(b, lay, y)


def _conv_padding(lay, nd: int):
    p = lay.get("padding", "valid")
    if p not in ("valid", "same"):
        lay.fail(f"padding={p!r} is not supported (valid or same)")
    return p


def _conv_common(lay, nd: int, xs: list) -> dict:
    channels_last(lay)
    _no_lora(lay)
    k = _ints(lay, "kernel_size", nd)
    s = _ints(lay, "strides", nd, 1)
    d = _ints(lay, "dilation_rate", nd, 1)
    padding = _conv_padding(lay, nd)
    pads = lay.b.pads.get(xs[0])
    if pads is not None:  # ZeroPadding -> valid conv: the conv's explicit (symmetric) padding
        src, pp, _ = pads
        if padding == "valid" and len(pp) == nd and all(lo == hi for lo, hi in pp):
            padding = _one([lo for lo, _ in pp])
            xs[0] = src
        else:  # the ZeroPadding node itself, read by this conv
            xs[0] = lay.b.materialize(xs[0])
    return {"kernel_size": _one(k), "strides": _one(s), "padding": padding, "dilation": _one(d)}


@converts("ZeroPadding1D", "ZeroPadding2D")
def zero_padding(b, lay, xs):
    """Remembered first: folded into the valid convolution that reads it when the pads are
    symmetric (xnn's explicit conv padding is symmetric per axis); for any other reader, or
    asymmetric pads, it becomes xnn's own ZeroPadding1D/2D node (:meth:`Builder.materialize`)."""
    channels_last(lay)
    nd = 1 if lay.cls == "ZeroPadding1D" else 2
    pp = _edges(lay, "padding", nd, 1)
    return b.pad(xs[0], pp, lay)


@converts("Conv1D", "Conv2D")
def conv(b, lay, xs):
    nd = 1 if lay.cls == "Conv1D" else 2
    f = _conv_common(lay, nd, xs)
    use_bias = bool(lay.get("use_bias", True))
    w = _n_weights(lay, lay.weights(), 2 if use_bias else 1)
    groups = lay.int("groups", 1)
    k = np.asarray(w[0])
    if groups > 1 and k.ndim >= 3 and k.shape[-2] == 1 and k.shape[-1] % groups == 0:
        # one group per input channel: xnn's Keras lowering holds it as a depthwise kernel (*k, C, M)
        w = [k.reshape(*k.shape[:-2], groups, k.shape[-1] // groups), *w[1:]]
    y = b.add(_lean({"type": lay.cls, "filters": lay.int("filters"), **f, "groups": groups,
                     "use_bias": use_bias}), xs, name=lay.xname, native=w)
    return with_activation(b, lay, y)


def _depthwise_kernel(lay, k) -> tuple[np.ndarray, int, int]:
    """Keras's depthwise kernel ``(*k, C, M)``, which xnn's Keras lowering of a Conv with
    ``groups = C`` holds as it is: output channel ``c*M + m`` is input channel ``c``'s ``m``-th
    filter (Keras's order and a grouped conv's)."""
    k = np.asarray(k)
    if k.ndim < 3:
        lay.fail(f"depthwise kernel of shape {list(k.shape)}")
    c, m = k.shape[-2], k.shape[-1]
    return k, c, m


@converts("DepthwiseConv1D", "DepthwiseConv2D")
def depthwise(b, lay, xs):
    nd = 1 if lay.cls == "DepthwiseConv1D" else 2
    f = _conv_common(lay, nd, xs)
    use_bias = bool(lay.get("use_bias", True))
    w = _n_weights(lay, lay.weights(), 2 if use_bias else 1)
    kernel, c, m = _depthwise_kernel(lay, w[0])
    if m != lay.int("depth_multiplier", 1):
        lay.fail(f"kernel multiplier {m} differs from depth_multiplier {lay.get('depth_multiplier')}")
    y = b.add(_lean({"type": f"Conv{nd}D", "filters": c * m, **f, "groups": c, "use_bias": use_bias}), xs,
              name=lay.xname, native=[kernel, *w[1:]])
    return with_activation(b, lay, y)


@converts("SeparableConv1D", "SeparableConv2D")
def separable(b, lay, xs):
    nd = 1 if lay.cls == "SeparableConv1D" else 2
    f = _conv_common(lay, nd, xs)
    use_bias = bool(lay.get("use_bias", True))
    w = _n_weights(lay, lay.weights(), 3 if use_bias else 2)
    kernel, c, m = _depthwise_kernel(lay, w[0])
    dw = b.add(_lean({"type": f"Conv{nd}D", "filters": c * m, **f, "groups": c, "use_bias": False}), xs,
               hint=f"{lay.xname}_depthwise", native=[kernel])
    y = b.add(_lean({"type": f"Conv{nd}D", "filters": lay.int("filters"), "kernel_size": 1, "use_bias": use_bias}),
              [dw], name=lay.xname, native=w[1:])
    return with_activation(b, lay, y)


def _pool(kind: str, nd: int):
    def fn(b, lay, xs):
        channels_last(lay)
        k = _ints(lay, "pool_size", nd, 2)
        s = lay.get("strides")
        s = k if s is None else _ints(lay, "strides", nd)
        p = lay.get("padding", "valid")
        if p not in ("valid", "same"):
            lay.fail(f"padding={p!r} is not supported (valid or same)")
        f = {"type": kind, "pool_size": _one(k)}
        if s != k:  # xnn's default strides is pool_size, as Keras's
            f["strides"] = _one(s)
        if p != "valid":
            f["padding"] = p
        return b.add(f, xs, name=lay.xname)

    return fn


converts("MaxPooling1D", "MaxPool1D")(_pool("MaxPool1D", 1))
converts("MaxPooling2D", "MaxPool2D")(_pool("MaxPool2D", 2))
converts("AveragePooling1D", "AvgPool1D")(_pool("AvgPool1D", 1))
converts("AveragePooling2D", "AvgPool2D")(_pool("AvgPool2D", 2))


@converts("GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAvgPool1D", "GlobalAvgPool2D")
def global_avg(b, lay, xs):
    channels_last(lay)
    expect(lay, keepdims=False)
    nd = 1 if lay.cls.endswith("1D") else 2
    return b.add({"type": f"GlobalAvgPool{nd}D"}, xs, name=lay.xname)


@converts("GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPool1D", "GlobalMaxPool2D")
def global_max(b, lay, xs):
    channels_last(lay)
    expect(lay, keepdims=False)
    nd = 1 if lay.cls.endswith("1D") else 2
    return b.add({"type": f"GlobalMaxPool{nd}D"}, xs, name=lay.xname)


def _edges(lay, key: str, nd: int, default) -> list:
    """Keras's ZeroPadding/Cropping amounts as ``(lo, hi)`` per spatial axis."""
    p = lay.get(key, default)
    if isinstance(p, int) and not isinstance(p, bool):
        pp = [(p, p)] * nd
    elif isinstance(p, (list, tuple)) and nd == 1 and len(p) == 2 and all(isinstance(i, int) for i in p):
        pp = [(int(p[0]), int(p[1]))]
    elif isinstance(p, (list, tuple)) and nd == 2 and len(p) == 2 and all(isinstance(i, int) for i in p):
        pp = [(int(i), int(i)) for i in p]
    elif isinstance(p, (list, tuple)) and len(p) == nd and all(
            isinstance(q, (list, tuple)) and len(q) == 2 and all(isinstance(i, int) for i in q) for q in p):
        pp = [(int(q[0]), int(q[1])) for q in p]
    else:
        lay.fail(f"{key}={p!r}")
    if any(lo < 0 or hi < 0 for lo, hi in pp):
        lay.fail(f"negative {key} {pp}")
    return pp


def edge_field(pp: list):
    """xnn's ZeroPadding/Cropping field: ``[lo, hi]`` (1-D) or ``[[top, bottom], [left, right]]``."""
    return list(pp[0]) if len(pp) == 1 else [list(q) for q in pp]


@converts("Cropping1D", "Cropping2D")
def cropping(b, lay, xs):
    channels_last(lay)
    nd = 1 if lay.cls == "Cropping1D" else 2
    pp = _edges(lay, "cropping", nd, (1, 1) if nd == 1 else ((0, 0), (0, 0)))
    return b.add({"type": lay.cls, "cropping": edge_field(pp)}, xs, name=lay.xname)


@converts("UpSampling1D", "UpSampling2D")
def upsampling(b, lay, xs):
    nd = 1 if lay.cls == "UpSampling1D" else 2
    if nd == 2:
        channels_last(lay)
        interp = lay.get("interpolation", "nearest")
        if interp != "nearest":
            lay.fail(f"interpolation={interp!r} is not supported: nearest only. Keras's bilinear runs through "
                     f"tf.image.resize, whose interpolation weights are computed in float32, so it is not "
                     f"exactly xnn's half-pixel bilinear (about 1e-7 apart even in float64)")
    k = _ints(lay, "size", nd, 2)
    return b.add({"type": lay.cls, "size": _one(k)}, xs, name=lay.xname)


@converts("Conv1DTranspose", "Conv2DTranspose")
def conv_transpose(b, lay, xs):
    """Keras's ``same`` is xnn's (output ``L*s``); Keras's ``valid`` outputs
    ``(L-1)*s + k + output_padding`` with ``output_padding`` unset meaning ``max(s - k, 0)`` (so
    ``L*s`` where the stride exceeds the kernel: zeros then bias appended), which is xnn's ``valid``
    with that ``output_padding`` (exact: the appended cells hold the bias in both)."""
    nd = 1 if lay.cls == "Conv1DTranspose" else 2
    channels_last(lay)
    _no_lora(lay)
    k = _ints(lay, "kernel_size", nd)
    st = _ints(lay, "strides", nd, 1)
    d = _ints(lay, "dilation_rate", nd, 1)
    if any(v != 1 for v in d):
        lay.fail(f"dilation_rate={_one(d)} is not supported (TensorFlow's CPU kernel refuses dilated transposed "
                 f"convolutions, so the import could not be checked against Keras)")
    if lay.int("groups", 1) != 1:
        lay.fail(f"groups={lay.get('groups')} is not supported")
    padding = lay.get("padding", "valid")
    op = lay.get("output_padding")
    if padding not in ("valid", "same"):
        lay.fail(f"padding={padding!r} is not supported (valid or same)")
    if op is not None:
        op = [op] * nd if isinstance(op, int) and not isinstance(op, bool) else op
        if (not isinstance(op, (list, tuple)) or len(op) != nd
                or not all(isinstance(i, int) and 0 <= i < s_ for i, s_ in zip(op, st))):
            lay.fail(f"output_padding={lay.get('output_padding')!r}: expected {nd} integer(s) in [0, stride)")
        if padding == "same" and any(op):
            lay.fail(f"output_padding={_one(list(op))} with padding='same' is not supported")
        op = [int(i) for i in op]
    elif padding == "valid":
        op = [max(s_ - k_, 0) for s_, k_ in zip(st, k)]
    use_bias = bool(lay.get("use_bias", True))
    w = _n_weights(lay, lay.weights(), 2 if use_bias else 1)
    fields = {"type": f"ConvTranspose{nd}D", "filters": lay.int("filters"), "kernel_size": _one(k),
              "strides": _one(st), "padding": padding, "use_bias": use_bias}
    if padding == "valid" and any(op):
        fields["output_padding"] = _one(op)
    y = b.add(_lean(fields), xs, name=lay.xname, native=w)
    return with_activation(b, lay, y)


@converts("Flatten")
def flatten(b, lay, xs):
    channels_last(lay)  # Keras flattens (H, W, C) channels-last: xnn's order, no permutation
    return b.add({"type": "Flatten"}, xs, name=lay.xname)


@converts("Reshape")
def reshape(b, lay, xs):
    t = lay.get("target_shape")
    if not isinstance(t, (list, tuple)) or not all(isinstance(i, int) and not isinstance(i, bool) for i in t):
        lay.fail(f"target_shape={t!r}")
    return b.add({"type": "Reshape", "target_shape": [int(i) for i in t]}, xs, name=lay.xname)


@converts("BatchNormalization")
def batchnorm(b, lay, xs):
    expect(lay, renorm=False)
    ax = lay.get("axis", -1)
    if isinstance(ax, list) and len(ax) == 1:
        ax = ax[0]
    if not isinstance(ax, int) or isinstance(ax, bool):
        lay.fail(f"axis={ax!r}: xnn normalizes the last (channel) axis only")
    if ax != -1:
        b.last_axis_check(lay, ax)
    center, scale = bool(lay.get("center", True)), bool(lay.get("scale", True))
    w = _n_weights(lay, lay.weights(), 2 + int(center) + int(scale))
    it = iter(w)
    gamma = np.asarray(next(it)) if scale else None
    beta = np.asarray(next(it)) if center else None
    mean, var = np.asarray(next(it)), np.asarray(next(it))
    gamma = np.ones_like(mean) if gamma is None else gamma
    beta = np.zeros_like(mean) if beta is None else beta
    m = float(lay.get("momentum", 0.99))
    if not 0.0 <= m <= 1.0:
        lay.fail(f"momentum={m}: outside [0, 1]")
    # Keras: running = m*running + (1-m)*batch; xnn (PyTorch): running = (1-m')*running + m'*batch
    # 1 - 0.99 is 0.010000000000000009 in binary: keep the decimal value Keras was given
    fields = {"type": "BatchNorm", "eps": float(lay.get("epsilon", 1e-3)), "momentum": float(f"{1.0 - m:.15g}")}
    return b.add(fields, xs, name=lay.xname, native=[gamma, beta, mean, var])


@converts("LayerNormalization")
def layernorm(b, lay, xs):
    expect(lay, rms_scaling=False)
    ax = lay.get("axis", -1)
    if isinstance(ax, list) and len(ax) == 1:
        ax = ax[0]
    if not isinstance(ax, int) or isinstance(ax, bool):
        lay.fail(f"axis={ax!r}: xnn's LayerNorm normalizes the last axis only")
    if ax != -1:
        b.last_axis_check(lay, ax)
    center, scale = bool(lay.get("center", True)), bool(lay.get("scale", True))
    w = _n_weights(lay, lay.weights(), int(center) + int(scale))
    it = iter(w)
    gamma = np.asarray(next(it)) if scale else None
    beta = np.asarray(next(it)) if center else None
    width = (gamma if gamma is not None else beta).shape[0] if (scale or center) else None
    if width is None:
        width = b.last_dim(lay, xs[0])
    gamma = np.ones(width) if gamma is None else gamma
    beta = np.zeros(width) if beta is None else beta
    return b.add({"type": "LayerNorm", "eps": float(lay.get("epsilon", 1e-3))}, xs, name=lay.xname,
                 native=[gamma, beta])


@converts("GroupNormalization")
def groupnorm(b, lay, xs):
    """Keras's GroupNormalization is xnn's GroupNorm (PyTorch's formula): contiguous channel
    groups, mean and biased variance per sample and group over the spatial axes, ``eps`` added
    to the variance (Keras's default 1e-3 is kept), then ``* gamma + beta``. Keras computes it as
    ``x * (gamma * rsqrt(var + eps)) + (beta - mean * gamma * rsqrt(var + eps))``: the same
    function, rounded differently (float64: ~1e-16; float32: ~1e-7)."""
    ax = lay.get("axis", -1)
    if isinstance(ax, list) and len(ax) == 1:
        ax = ax[0]
    if not isinstance(ax, int) or isinstance(ax, bool):
        lay.fail(f"axis={ax!r}: xnn's GroupNorm groups the last (channel) axis")
    if ax != -1:
        b.last_axis_check(lay, ax)
    groups = lay.int("groups", 32, positive=False)
    if groups == 0 or groups < -1:
        lay.fail(f"groups={groups}")
    center, scale = bool(lay.get("center", True)), bool(lay.get("scale", True))
    w = _n_weights(lay, lay.weights(), int(center) + int(scale))
    fields = {"type": "GroupNorm", "groups": groups, "eps": float(lay.get("epsilon", 1e-3))}
    if not (center or scale):
        return b.add({**fields, "affine": False}, xs, name=lay.xname)
    it = iter(w)
    gamma = np.asarray(next(it)) if scale else None
    beta = np.asarray(next(it)) if center else None
    gamma = np.ones_like(beta) if gamma is None else gamma
    beta = np.zeros_like(gamma) if beta is None else beta
    return b.add(fields, xs, name=lay.xname, native=[gamma, beta])


@converts("SpatialDropout1D", "SpatialDropout2D")
def spatial_dropout(b, lay, xs):
    channels_last(lay)
    return b.add({"type": lay.cls, "rate": float(lay.get("rate", 0.5))}, xs, name=lay.xname)


@converts("Multiply")
def multiply(b, lay, xs):
    if len(xs) < 2:
        lay.fail("needs 2 or more inputs")
    return b.add({"type": "Multiply"}, xs, name=lay.xname)


@converts("Subtract")
def subtract(b, lay, xs):
    if len(xs) != 2:
        lay.fail(f"needs exactly 2 inputs (received {len(xs)})")
    return b.add({"type": "Subtract"}, xs, name=lay.xname)


@converts("Dropout")
def dropout(b, lay, xs):
    expect(lay, noise_shape=None)
    return b.add({"type": "Dropout", "rate": float(lay.get("rate", 0.5))}, xs, name=lay.xname)


@converts("Activation")
def activation(b, lay, xs):
    f = activation_fields(lay.get("activation"))
    return xs[0] if f is None else b.add(f, xs, name=lay.xname)


@converts("ReLU")
def relu(b, lay, xs):
    expect(lay, threshold=(0, 0.0))
    slope = float(lay.get("negative_slope", 0.0) or 0.0)
    mx = lay.get("max_value")
    if mx is not None:
        if float(mx) != 6.0 or slope != 0:
            lay.fail(f"max_value={mx!r} (negative_slope={slope}) is not supported (xnn has relu6: max_value=6, "
                     f"negative_slope=0)")
        return b.add({"type": "Activation", "fn": "relu6"}, xs, name=lay.xname)
    f = {"type": "Activation", "fn": "relu"} if slope == 0 else {"type": "Activation", "fn": "leaky_relu",
                                                                 "negative_slope": slope}
    return b.add(f, xs, name=lay.xname)


@converts("LeakyReLU")
def leaky_relu(b, lay, xs):
    slope = lay.get("negative_slope", lay.get("alpha", 0.3))  # Keras's layer default is 0.3
    return b.add({"type": "Activation", "fn": "leaky_relu", "negative_slope": float(slope)}, xs, name=lay.xname)


@converts("ELU")
def elu(b, lay, xs):
    return b.add({"type": "Activation", "fn": "elu", "alpha": float(lay.get("alpha", 1.0))}, xs, name=lay.xname)


@converts("Softmax")
def softmax(b, lay, xs):
    ax = lay.get("axis", -1)
    if isinstance(ax, list) and len(ax) == 1:
        ax = ax[0]
    if not isinstance(ax, int) or isinstance(ax, bool):
        lay.fail(f"axis={ax!r}: xnn's softmax runs over one axis")
    return b.add({"type": "Activation", "fn": "softmax", "axis": ax}, xs, name=lay.xname)


@converts("Add")
def add(b, lay, xs):
    if len(xs) < 2:
        lay.fail("needs 2 or more inputs")
    return b.add({"type": "Add"}, xs, name=lay.xname)


@converts("Concatenate")
def concatenate(b, lay, xs):
    if len(xs) < 2:
        lay.fail("needs 2 or more inputs")
    return b.add({"type": "Concatenate", "axis": lay.int("axis", -1, positive=False)}, xs, name=lay.xname)


@converts("Embedding")
def embedding(b, lay, xs):
    _no_lora(lay)  # mask_zero=True: its mask is a SequenceMask node on the ids (masking.py)
    w = _n_weights(lay, lay.weights(), 1)
    return b.add({"type": "Embedding", "num_embeddings": lay.int("input_dim"), "dim": lay.int("output_dim")}, xs,
                 name=lay.xname, native=w)


# ------------------------------------------------------------------------------ recurrent
def _rnn_checks(lay, rnn: dict, where: str = "") -> None:
    """Settings of a Keras LSTM/GRU config ``rnn`` that xnn's LSTM/GRU cannot express."""
    def bad(msg):
        lay.fail(f"{where}{msg}")

    c = rnn
    for k, ok in (("activation", "tanh"), ("recurrent_activation", "sigmoid")):
        try:
            name = activation_name(c.get(k, ok))
        except Unsupported as e:
            bad(str(e))
        if name != ok:
            bad(f"{k}={name!r} is not supported (xnn's {lay.rnn_kind(c)} uses {ok})")
    for k in ("return_state", "go_backwards", "stateful"):
        if c.get(k, False):
            bad(f"{k}=True is not supported")
    for k in ("dropout", "recurrent_dropout"):
        if float(c.get(k, 0.0) or 0.0) != 0.0:
            bad(f"{k}={c.get(k)} is not supported (Keras masks inputs/states once per sequence; xnn's "
                f"recurrent dropout acts between stacked layers only); set it to 0 to import")
    if c.get("cls") == "GRU" and not c.get("reset_after", True):
        bad("reset_after=False is not supported (xnn's GRU applies the reset gate after the recurrent "
            "matmul, Keras's default reset_after=True and PyTorch's convention)")


def _rnn_weights(lay, cls: str, w: list, use_bias: bool, units: int) -> list:
    """Keras's [kernel, recurrent_kernel, bias?] with a missing bias filled by zeros, as the xnn
    Keras lowering holds them: an LSTM's one bias is xnn's ``bias_ih``, and ``bias_hh`` is zero
    (xnn's LSTM keeps PyTorch's two biases)."""
    if use_bias:
        w = _n_weights(lay, w, 3)
    else:
        _n_weights(lay, w, 2)
        w = [w[0], w[1], np.zeros((4 * units,) if cls == "LSTM" else (2, 3 * units))]
    if cls == "LSTM":
        w = [*w, np.zeros_like(np.asarray(w[2]))]
    return w


@converts("LSTM", "GRU")
def rnn(b, lay, xs):
    c = dict(lay.cfg, cls=lay.cls)
    _rnn_checks(lay, c)
    units = lay.int("units")
    w = _rnn_weights(lay, lay.cls, lay.weights(), bool(lay.get("use_bias", True)), units)
    out = "sequences" if lay.get("return_sequences", False) else "last"
    return b.add({"type": lay.cls, "units": units, "output": out}, xs, name=lay.xname, native=w)


@converts("Bidirectional")
def bidirectional(b, lay, xs):
    inner = lay.get("layer")
    back = lay.get("backward_layer")
    if not isinstance(inner, dict) or inner.get("class_name") not in ("LSTM", "GRU"):
        lay.fail(f"wraps {inner.get('class_name') if isinstance(inner, dict) else inner!r}; xnn's "
                 f"bidirectional layers are LSTM and GRU")
    cls = inner["class_name"]
    fc = dict(inner.get("config") or {}, cls=cls)
    _rnn_checks(lay, fc, "forward layer: ")
    merge = lay.get("merge_mode", "concat")
    if merge not in ("concat", "sum"):
        lay.fail(f"merge_mode={merge!r} is not supported (concat or sum)")
    units = int(fc.get("units", 0))
    use_bias = bool(fc.get("use_bias", True))
    if back is not None:
        if not isinstance(back, dict) or back.get("class_name") != cls:
            lay.fail("its backward layer is not the same kind as its forward layer")
        bc = dict(back.get("config") or {}, cls=cls)
        bc_same = dict(bc, go_backwards=False)
        _rnn_checks(lay, bc_same, "backward layer: ")
        for k in ("units", "use_bias", "return_sequences", "reset_after"):
            if bc.get(k) != fc.get(k):
                lay.fail(f"forward and backward layers differ in {k}")
        if not bc.get("go_backwards", False):
            lay.fail("its backward layer does not run backwards (go_backwards=False)")
    w = lay.weights()
    if len(w) % 2:
        lay.fail(f"has {len(w)} weight arrays; expected forward and backward halves")
    h = len(w) // 2
    w = _rnn_weights(lay, cls, w[:h], use_bias, units) + _rnn_weights(lay, cls, w[h:], use_bias, units)
    if units <= 0:
        lay.fail(f"units={fc.get('units')!r}")
    out = "sequences" if fc.get("return_sequences", False) else "last"
    return b.add({"type": cls, "units": units, "bidirectional": True, "merge": merge, "output": out}, xs,
                 name=lay.xname, native=w)


# ------------------------------------------------------------------------------ attention
@converts("MultiHeadAttention")
def attention(b, lay, xs):
    expect(lay, use_gate=False, sliding_window=None)
    ax = lay.get("attention_axes")
    if ax not in (None, [1], (1,), 1, [-2], -2):
        lay.fail(f"attention_axes={ax!r} is not supported (attention over the time axis only)")
    q, v, k = lay.mha_inputs()
    if k is not None and k != v:
        lay.fail("key and value are different tensors; xnn's attention takes one key/value input")
    heads, dk = lay.int("num_heads"), lay.int("key_dim")
    dv = lay.get("value_dim") or dk
    fields = {"type": "MultiHeadAttention", "num_heads": heads, "key_dim": dk, "value_dim": int(dv),
              "use_bias": bool(lay.get("use_bias", True)), "dropout": float(lay.get("dropout", 0.0))}
    osh = lay.get("output_shape")
    if isinstance(osh, (list, tuple)):
        if len(osh) != 1:
            lay.fail(f"output_shape={osh!r}: only a width is supported")
        osh = osh[0]
    if osh is not None:
        fields["output_dim"] = int(osh)
    if lay.kwargs.get("use_causal_mask"):
        fields["causal"] = True
    ins = ([q] if v == q else [q, v]) + ([lay.key_mask] if lay.key_mask else [])  # (masking.py)
    n = 8 if fields["use_bias"] else 4
    return b.add(fields, ins, name=lay.xname, native=_n_weights(lay, lay.weights(), n))


# Keras classes that are known but have no exact xnn equivalent get the generic message;
# these get a more useful one.
HINTS = {
    "Lambda": "a Lambda layer holds Python code; xnn never runs code from a model",
    "InputLayer": "a second input: xnn models have one input",
    "Functional": "a nested model: xnn imports one flat model", "Sequential": "a nested model: xnn imports one flat model",
}
