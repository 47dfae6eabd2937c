"""Keras 3 models into xnn: hand-written Keras models (real Keras + TensorFlow, no mocks) imported
with ``xnn.from_keras`` and from their saved ``.keras`` files, compared with Keras's own output
(float64: 1e-10; float32: 1e-5 x scale), then run through xnn's torch backend and NumPy reference.
One of them also goes through the CLI: ``xnn import m.keras --out R`` then ``xnn predict R``.
"""
from __future__ import annotations

import os
import subprocess
import sys

import torch  # noqa: F401  torch before tensorflow in one process (design rule)
import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
L = keras.layers

from ._keras_util import randomize, set_floatx
import xnn  # noqa: E402
from xnn.errors import FormatError  # noqa: E402
from xnn.interop.keras import import_keras  # noqa: E402


def _tol(ref: np.ndarray, dtype: str) -> float:
    scale = max(1.0, float(np.abs(ref).max()))
    return (1e-10 if dtype == "float64" else 1e-5) * scale


def _check(model, x, dtype: str = "float64"):
    """from_keras == Keras, through xnn's torch backend and the NumPy reference."""
    ref = np.asarray(model(x, training=False))
    spec_dict, params = xnn.from_keras(model)
    spec = xnn.from_dict(spec_dict)
    be = xnn.backends.get("torch")
    got = np.asarray(be.predict(be.build(spec, params, dtype=dtype), x))
    assert got.shape == ref.shape
    tol = _tol(ref, dtype)
    assert np.abs(got - ref).max() <= tol, (np.abs(got - ref).max(), tol)
    npy = xnn.reference_forward(spec, params, x.astype(np.float64) if x.dtype.kind == "f" else x)
    assert np.abs(npy - ref).max() <= max(tol, 1e-5 * float(np.abs(ref).max()) if dtype == "float32" else tol)
    return spec_dict, params, ref


# ------------------------------------------------------------------------------ models
def cnn_residual():
    """ZeroPadding + Conv, Conv (same, stride 2 with an even kernel, dilation, groups), BatchNorm, a depthwise
    conv, a residual Add, max/avg pooling with same padding, Flatten, Dropout, Dense."""
    inp = keras.Input((9, 10, 3))
    x = L.ZeroPadding2D(((1, 1), (2, 2)))(inp)  # folded into the valid conv's padding
    x = L.Conv2D(6, 3, activation="relu", name="stem")(x)
    x = L.BatchNormalization(momentum=0.9, epsilon=1e-3, name="stem_bn")(x)
    y = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2, name="dw")(x)
    y = L.Conv2D(6, 1, groups=2, name="pw")(y)
    x = L.Add(name="residual")([x, y])
    x = L.MaxPooling2D(2, padding="same")(x)
    x = L.AveragePooling2D(2, strides=1, padding="same")(x)
    x = L.Conv2D(4, 2, strides=2, padding="same", activation="tanh")(x)
    x = L.Conv2D(4, 3, dilation_rate=2, padding="same")(x)
    x = L.Flatten()(x)
    x = L.Dropout(0.3)(x)
    # Keras's float64 gelu rounds 1/sqrt(2) to float32 (tf.nn.gelu); xnn's is exact: gelu in float32 only
    x = L.Dense(5, activation="gelu" if keras.config.floatx() == "float32" else "elu")(x)
    out = L.Dense(3, activation="softmax", name="probs")(x)
    return keras.Model(inp, out, name="cnn_residual"), (9, 10, 3)


def conv1d_separable():
    inp = keras.Input((12, 2))
    x = L.Conv1D(4, 3, dilation_rate=2, padding="same", activation="sigmoid")(inp)
    x = L.SeparableConv1D(6, 3, depth_multiplier=2)(x)
    x = L.MaxPooling1D(2)(x)
    x = L.AveragePooling1D(3, strides=1, padding="same")(x)
    x = L.DepthwiseConv1D(2, strides=2)(x)
    x = L.GlobalAveragePooling1D()(x)
    out = L.Dense(2)(x)
    return keras.Model(inp, out, name="conv1d_separable"), (12, 2)


def lstm_stack():
    return keras.Sequential([keras.Input((7, 3)), L.LSTM(5, return_sequences=True),
                             L.Bidirectional(L.LSTM(3, return_sequences=True)),
                             L.LSTM(4, use_bias=False), L.Dense(3)], name="lstm_stack"), (7, 3)


def gru_bi():
    inp = keras.Input((6, 4))
    x = L.Bidirectional(L.GRU(5, return_sequences=True), merge_mode="sum")(inp)
    x = L.GRU(3)(x)
    out = L.Dense(2, activation="elu")(x)
    return keras.Model(inp, out, name="gru_bi"), (6, 4)


def mlp():
    inp = keras.Input((6,))
    a = L.Dense(8, activation="relu")(inp)
    a = L.LayerNormalization(epsilon=1e-5)(a)
    a = L.Dense(8, activation="silu")(a)
    # tf.nn.leaky_relu takes its slope as a float32 attribute, also in float64: in float64 the
    # slopes here are exact in float32 (xnn keeps the slope Keras was given, e.g. 0.2, exactly)
    f32 = keras.config.floatx() == "float32"
    a = L.ReLU(negative_slope=0.1 if f32 else 0.125)(a)
    b = L.Dense(4, activation="leaky_relu" if f32 else "relu")(inp)
    b = L.LeakyReLU(**({} if f32 else {"negative_slope": 0.25}))(b)
    b = L.ELU(alpha=0.5)(b)
    x = L.Concatenate()([a, b])
    x = L.Dense(3)(x)
    out = L.Softmax()(x)
    return keras.Model(inp, out, name="mlp"), (6,)


def attention():
    """Embedding (int64 ids), causal self-attention, residual Add, LayerNorm."""
    inp = keras.Input((5,), dtype="int64")
    e = L.Embedding(11, 8)(inp)
    a = L.MultiHeadAttention(2, 4, value_dim=3)(e, e, use_causal_mask=True)
    x = L.LayerNormalization()(L.Add()([e, a]))
    x = L.GlobalAveragePooling1D()(x)
    out = L.Dense(2)(x)
    return keras.Model(inp, out, name="attention"), (5,)


MODELS = [cnn_residual, conv1d_separable, lstm_stack, gru_bi, mlp, attention]


def _input(shape, rng, n: int = 4, dtype="float64"):
    if shape == (5,) and dtype == "int64":
        return rng.integers(0, 11, size=(n, *shape)).astype(np.int64)
    return rng.normal(size=(n, *shape)).astype(dtype)


@pytest.mark.parametrize("make", MODELS, ids=[m.__name__ for m in MODELS])
def test_from_keras_float64_and_file(make, f64, tmp_path):
    model, shape = make()
    randomize(model)
    x = _input(shape, np.random.default_rng(1), dtype="int64" if make is attention else "float64")
    spec, params, ref = _check(model, x, "float64")
    # the saved .keras file imports to the very same spec and weights (one conversion path)
    model.save(tmp_path / "m.keras")
    spec2, params2 = import_keras(tmp_path / "m.keras")
    assert spec2 == spec
    assert params2.keys() == params.keys() and all(np.array_equal(params2[k], params[k]) for k in params)


@pytest.mark.parametrize("make", [cnn_residual, mlp], ids=["cnn_residual", "mlp"])
def test_float32(make):
    model, shape = make()
    randomize(model, seed=3)
    _check(model, np.random.default_rng(2).normal(size=(4, *shape)).astype(np.float32), "float32")


def test_semantics_converted(f64):
    model, _ = cnn_residual()
    spec, _ = xnn.from_keras(model)
    nodes = {n["name"]: n for n in spec["model"]}
    bn = nodes["stem_bn"]
    assert bn["type"] == "BatchNorm" and bn["momentum"] == 0.1 and bn["eps"] == 1e-3  # Keras m=0.9
    assert nodes["stem_relu"] == {"type": "Activation", "fn": "relu", "name": "stem_relu"}  # own node
    assert nodes["dw"]["groups"] == 6 and nodes["dw"]["filters"] == 12  # depthwise = groups C
    assert nodes["stem"]["padding"] == [1, 2] and "inputs" not in nodes["stem"]  # ZeroPadding folded
    assert spec["train"]["dtype"] == "float64" and spec["input"]["dtype"] == "float64"


def test_refusals_listed_at_once():
    inp = keras.Input((8, 8, 3))
    x = L.Conv2D(4, 3)(inp)
    x = L.UpSampling2D(interpolation="bilinear", name="up")(x)  # Keras's bilinear is float32 inside
    x = L.GlobalMaxPooling2D(name="gmp")(x)  # converts
    x = L.Dense(3, activation="selu", name="head")(x)
    y = L.Lambda(lambda t: t * 2, name="twice")(x)
    with pytest.raises(FormatError) as e:
        xnn.from_keras(keras.Model(inp, y))
    text = str(e.value)
    assert "'twice' (Lambda)" in text  # Lambda refused by name, before the layer conversions
    with pytest.raises(FormatError) as e:
        xnn.from_keras(keras.Model(inp, x))
    msgs = e.value.messages
    assert len(msgs) == 2 and "'up' (UpSampling2D)" in msgs[0] and "'head' (Dense)" in msgs[1]
    assert "bilinear" in msgs[0] and "float32" in msgs[0] and "selu" in msgs[1]


def test_refuses_shared_layers_and_unexact_settings():
    m = keras.Sequential([keras.Input((6, 6, 2)), L.ZeroPadding2D(1, name="zp"), L.MaxPooling2D(name="mp")])
    spec, _ = xnn.from_keras(m)  # a ZeroPadding read by anything but a valid conv is its own node
    assert [n["type"] for n in spec["model"]] == ["ZeroPadding2D", "MaxPool2D"]
    inp = keras.Input((4, 3))
    d = L.Dense(3, name="shared")
    with pytest.raises(FormatError, match="called 2 times"):
        xnn.from_keras(keras.Model(inp, L.Add()([d(inp), d(inp)])))
    m = keras.Sequential([keras.Input((4, 3)), L.GRU(2, reset_after=False, name="g"),
                          L.Dense(2, name="d")])
    with pytest.raises(FormatError, match="reset_after=False"):
        xnn.from_keras(m)
    m = keras.Sequential([keras.Input((4, 3)), L.LSTM(2, recurrent_dropout=0.1, name="l")])
    with pytest.raises(FormatError, match="recurrent_dropout"):
        xnn.from_keras(m)


# ------------------------------------------------------------------------------ CLI
def _cli(*args, cwd):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run([sys.executable, "-m", "xnn", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


# one model through the CLI (each verb is a fresh process that loads TensorFlow or torch); the
# in-process tests above already check every model's file against its live import
@pytest.mark.parametrize("make,dtype", [(cnn_residual, "float64")], ids=["cnn_residual_f64"])
def test_cli_import_then_predict(make, dtype, tmp_path):
    set_floatx(dtype)
    try:
        model, shape = make()
        randomize(model, seed=5)
        model.save(tmp_path / "m.keras")
    finally:
        set_floatx("float32")
    x = np.random.default_rng(4).normal(size=(6, *shape)).astype(dtype)
    ref = np.asarray(model(x, training=False))
    np.savez(tmp_path / "x.npz", x=x)
    o = _cli("import", "m.keras", "--out", "R", cwd=tmp_path)
    assert o.returncode == 0, o.stderr[-2000:]
    assert (tmp_path / "R" / "spec.yaml").is_file()
    o = _cli("predict", "R", "--data", "x.npz", "--out", "p.npz", cwd=tmp_path)
    assert o.returncode == 0, o.stderr[-2000:]
    got = np.load(tmp_path / "p.npz")["outputs"]
    assert np.abs(got - ref).max() <= _tol(ref, dtype)
