"""Keras 3 layers xnn gained (GlobalMaxPooling, standalone ZeroPadding, Cropping, UpSampling,
Conv*DTranspose, Multiply, Subtract, GroupNormalization, SpatialDropout, relu6 / hard_sigmoid /
hard_silu) imported with ``xnn.from_keras``: each compared with Keras's own output (float64:
1e-10; float32: 1e-5 x scale) on xnn's torch backend and the NumPy reference, the saved
``.keras`` file importing to the same spec and weights; a MobileNetV2-like block, an SE block and
a small U-Net (Conv2DTranspose + skip Concatenate) then through five-path parity. The settings
with no exact xnn equivalent are refused with the reason.
"""
from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
import torch  # noqa: F401  torch before tensorflow in one process (design rule)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
L = keras.layers

from ._keras_util import randomize
import xnn  # noqa: E402
import xnn.backends  # noqa: E402
from xnn.errors import FormatError  # noqa: E402
from xnn.interop.keras import import_keras  # noqa: E402
from xnn.parity import run_parity  # noqa: E402

PATHS = ("torch", "keras", "onnx") + (("octave",) if shutil.which("octave-cli") else ())


def _tol(ref, dtype):
    return (1e-10 if dtype == "float64" else 1e-5) * max(1.0, float(np.abs(ref).max()))


def _check(model, x, dtype="float64"):
    ref = np.asarray(model(x, training=False))
    spec_dict, params = xnn.from_keras(model)
    spec = xnn.from_dict(spec_dict)
    be = xnn.backends.get("torch")
    got = np.asarray(be.predict(be.build(spec, params, dtype=dtype), x))
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() <= _tol(ref, dtype), np.abs(got - ref).max()
    npy = xnn.reference_forward(spec, params, x.astype(np.float64))
    assert np.abs(npy - ref).max() <= _tol(ref, dtype)
    return spec_dict, params, spec


# ------------------------------------------------------------------------------ models
def mobilenetv2_block():
    """Inverted residual: 1x1 expand + BN + relu6, depthwise + BN + hard_silu, 1x1 project + BN, Add;
    a standalone asymmetric ZeroPadding before a strided depthwise conv (MobileNetV2's)."""
    inp = keras.Input((8, 8, 4))
    x = L.Conv2D(16, 1, use_bias=False, name="expand")(inp)
    x = L.BatchNormalization(name="expand_bn")(x)
    x = L.ReLU(6.0, name="expand_relu6")(x)
    x = L.DepthwiseConv2D(3, padding="same", use_bias=False, name="dw")(x)
    x = L.BatchNormalization(name="dw_bn")(x)
    x = L.Activation("hard_silu", name="dw_hswish")(x)
    x = L.Conv2D(4, 1, use_bias=False, name="project")(x)
    x = L.BatchNormalization(name="project_bn")(x)
    x = L.Add(name="residual")([inp, x])
    x = L.ZeroPadding2D(((0, 1), (0, 1)), name="pad")(x)  # asymmetric: a ZeroPadding2D node
    x = L.DepthwiseConv2D(3, strides=2, name="down")(x)
    x = L.Activation("relu6")(x)
    x = L.GlobalAveragePooling2D()(x)
    out = L.Dense(3, activation="hard_sigmoid", name="head")(x)
    return keras.Model(inp, out, name="mobilenetv2_block"), (8, 8, 4)


def se_block():
    """Squeeze-and-excitation: GlobalAveragePooling -> Dense relu -> Dense sigmoid -> Reshape ->
    Multiply; global max pooling head."""
    inp = keras.Input((6, 6, 3))
    x = L.Conv2D(8, 3, padding="same", activation="relu", name="conv")(inp)
    s = L.GlobalAveragePooling2D(name="squeeze")(x)
    s = L.Dense(2, activation="relu", name="fc1")(s)
    s = L.Dense(8, activation="sigmoid", name="fc2")(s)
    s = L.Reshape((1, 1, 8), name="to_map")(s)
    x = L.Multiply(name="excite")([x, s])
    x = L.SpatialDropout2D(0.2, name="sdrop")(x)
    x = L.GlobalMaxPooling2D(name="gmp")(x)
    out = L.Dense(2, name="head")(x)
    return keras.Model(inp, out, name="se_block"), (6, 6, 3)


def unet_small():
    """Encoder-decoder with a skip: Conv, MaxPool, Conv2DTranspose (same and valid with stride >
    kernel), UpSampling2D, Cropping2D, Concatenate, GroupNormalization, Subtract, 1x1 head."""
    inp = keras.Input((8, 8, 3))
    a = L.Conv2D(4, 3, padding="same", activation="relu", name="enc")(inp)
    b = L.MaxPooling2D(2, name="down")(a)
    b = L.Conv2D(8, 3, padding="same", activation="relu", name="mid")(b)
    b = L.GroupNormalization(groups=4, epsilon=1e-4, name="gn")(b)
    u = L.Conv2DTranspose(4, 2, strides=2, padding="same", name="up")(b)
    v = L.Conv2DTranspose(4, 1, strides=2, padding="valid", name="up_valid")(b)  # stride 2 > kernel 1
    w = L.UpSampling2D(2, name="up_nearest")(L.Conv2D(4, 1, name="squeeze")(b))
    w = L.ZeroPadding2D(1, name="wpad")(w)
    w = L.Cropping2D(((1, 1), (2, 0)), name="crop")(w)
    w = L.ZeroPadding2D(((0, 0), (0, 2)), name="wpad2")(w)
    w = L.Cropping2D(((0, 0), (0, 2)), name="crop2")(w)
    x = L.Concatenate(name="skip")([a, L.Subtract(name="diff")([u, v]), w])
    out = L.Conv2D(2, 1, name="head")(x)
    return keras.Model(inp, out, name="unet_small"), (8, 8, 3)


def signal_1d():
    """1-D: Conv1DTranspose (valid), UpSampling1D, Cropping1D, ZeroPadding1D (asymmetric),
    SpatialDropout1D, GroupNormalization (instance: groups=-1, no scale), GlobalMaxPooling1D."""
    inp = keras.Input((10, 3))
    x = L.Conv1D(4, 3, activation="relu6")(inp)
    x = L.Conv1DTranspose(6, 3, strides=2, name="tconv")(x)
    x = L.UpSampling1D(3, name="up")(x)
    x = L.Cropping1D((2, 1), name="crop")(x)
    x = L.ZeroPadding1D((1, 3), name="pad")(x)
    x = L.SpatialDropout1D(0.1)(x)
    x = L.GroupNormalization(groups=-1, scale=False, name="inorm")(x)
    x = L.GlobalMaxPooling1D()(x)
    out = L.Dense(2)(x)
    return keras.Model(inp, out, name="signal_1d"), (10, 3)


MODELS = [mobilenetv2_block, se_block, unet_small, signal_1d]


@pytest.mark.parametrize("make", MODELS, ids=[m.__name__ for m in MODELS])
def test_float64_equals_keras_file_too_then_five_paths(make, f64, tmp_path):
    model, shape = make()
    randomize(model)
    x = np.random.default_rng(1).normal(size=(3, *shape))
    spec_dict, params, spec = _check(model, x, "float64")
    model.save(tmp_path / "m.keras")
    spec2, params2 = import_keras(tmp_path / "m.keras")
    assert spec2 == spec_dict
    assert params2.keys() == params.keys() and all(np.array_equal(params2[k], params[k]) for k in params)
    rep = run_parity(spec, params, paths=PATHS, dtype="float64", n=2, seed=3)
    bad = [(p.path, p.max_rel) for p in rep.paths if not p.ok] + [(q.a, q.b) for q in rep.pairs if not q.ok]
    assert rep.ok, bad


@pytest.mark.parametrize("make", MODELS, ids=[m.__name__ for m in MODELS])
def test_float32(make):
    model, shape = make()
    randomize(model, seed=2)
    _check(model, np.random.default_rng(4).normal(size=(3, *shape)).astype(np.float32), "float32")


def test_conversions(f64):
    spec, _ = xnn.from_keras(unet_small()[0])
    n = {d["name"]: d for d in spec["model"]}
    assert n["up_valid"]["type"] == "ConvTranspose2D" and n["up_valid"]["output_padding"] == 1  # Keras's L*s
    assert n["up"]["padding"] == "same" and "output_padding" not in n["up"]
    assert n["gn"] == {"type": "GroupNorm", "groups": 4, "eps": 1e-4, "name": "gn"}
    assert n["crop"] == {"type": "Cropping2D", "cropping": [[1, 1], [2, 0]], "name": "crop"}
    assert n["wpad"]["type"] == "ZeroPadding2D" and n["wpad"]["padding"] == [[1, 1], [1, 1]]
    spec, _ = xnn.from_keras(mobilenetv2_block()[0])
    n = {d["name"]: d for d in spec["model"]}
    assert n["expand_relu6"]["fn"] == "relu6" and n["dw_hswish"]["fn"] == "hard_swish"
    assert n["head_hard_sigmoid"]["fn"] == "hard_sigmoid"
    assert n["pad"] == {"type": "ZeroPadding2D", "padding": [[0, 1], [0, 1]], "name": "pad"}
    assert n["down"].get("padding", "valid") == "valid" and n["down"]["strides"] == 2  # reads the pad node
    spec, _ = xnn.from_keras(signal_1d()[0])
    n = {d["name"]: d for d in spec["model"]}
    assert n["inorm"]["groups"] == 6 and n["inorm"]["eps"] == 1e-3  # Keras stores groups=-1 as C; its eps kept
    assert n["pad"]["padding"] == [1, 3] and n["crop"]["cropping"] == [2, 1]


def test_refusals_with_reasons():
    inp = keras.Input((6, 6, 2))
    x = L.UpSampling2D(2, interpolation="bilinear", name="bilinear")(inp)
    x = L.Conv2DTranspose(2, 3, strides=2, padding="same", output_padding=1, name="same_outpad")(x)
    x = L.Conv2DTranspose(2, 3, dilation_rate=2, name="dilated")(x)
    x = L.ReLU(max_value=4.0, name="relu4")(x)
    x = L.Activation("selu", name="selu")(x)
    with pytest.raises(FormatError) as e:
        xnn.from_keras(keras.Model(inp, x))
    msgs = e.value.messages
    assert len(msgs) == 5, msgs
    assert "'bilinear' (UpSampling2D)" in msgs[0] and "float32" in msgs[0]
    assert "'same_outpad' (Conv2DTranspose)" in msgs[1] and "output_padding" in msgs[1]
    assert "'dilated' (Conv2DTranspose)" in msgs[2] and "dilation_rate" in msgs[2]
    assert "'relu4' (ReLU)" in msgs[3] and "relu6" in msgs[3]
    assert "'selu' (Activation)" in msgs[4]
