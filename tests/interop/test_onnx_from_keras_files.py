"""ONNX files that Keras 3 writes (``tf2onnx.convert.from_keras`` and ``model.export(format=
"onnx")``, both through tf2onnx) import into xnn and compute what the Keras model computes
(float32: 1e-5 x scale): a CNN with Flatten (one input channel, whose NHWC -> NCHW Transpose
tf2onnx writes as a Reshape, and three; the Flatten's shape is cast to int32, which the batch
placeholder survives), a CNN with BatchNorm (tf2onnx writes it as a per-channel Mul/Add), an LSTM
read at its last step (tf2onnx's ``Slice`` of the time-major ``Y``) and one pooled over time.
"""
from __future__ import annotations

import os

import numpy as np
import pytest
import torch  # noqa: F401  torch before tensorflow in one process (design rule)

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
keras = pytest.importorskip("keras")
tf2onnx = pytest.importorskip("tf2onnx")
L = keras.layers

import onnx  # noqa: E402

import xnn  # noqa: E402
import xnn.backends  # noqa: E402
from xnn.interop.onnx.importer import SENTINEL, import_onnx_full, to_onnx_output, to_xnn_input  # noqa: E402


def cnn_flatten(c: int = 1):
    inp = keras.Input((8, 8, c))
    x = L.Conv2D(4, 3, activation="relu")(inp)
    x = L.MaxPooling2D()(x)
    x = L.Flatten()(x)
    return keras.Model(inp, L.Dense(3, activation="softmax")(x), name=f"cnn_flatten_{c}")


def cnn_batchnorm():
    inp = keras.Input((8, 8, 2))
    x = L.Conv2D(4, 3, padding="same")(inp)
    x = L.BatchNormalization()(x)
    x = L.ReLU()(x)
    x = L.Flatten()(L.MaxPooling2D()(x))
    return keras.Model(inp, L.Dense(3)(x), name="cnn_batchnorm")


def lstm_last():
    # functional: tf2onnx.convert.from_keras cannot name a Keras 3 Sequential model's outputs
    inp = keras.Input((6, 3))
    return keras.Model(inp, L.Dense(2)(L.LSTM(5)(inp)), name="lstm_last")


def lstm_pooled():
    inp = keras.Input((6, 3))
    x = L.LSTM(5, return_sequences=True)(inp)
    x = L.GlobalAveragePooling1D()(x)
    return keras.Model(inp, L.Dense(2)(x), name="lstm_pooled")


MODELS = [("cnn_flatten_1ch", cnn_flatten), ("cnn_flatten_3ch", lambda: cnn_flatten(3)),
          ("cnn_batchnorm", cnn_batchnorm), ("lstm_last", lstm_last), ("lstm_pooled", lstm_pooled)]


def _randomize(model, seed=0):
    rng = np.random.default_rng(seed)
    for lay in model.layers:
        ws = lay.get_weights()
        if ws:
            lay.set_weights([(rng.uniform(0.5, 1.5, w.shape) if isinstance(lay, L.BatchNormalization) and i == 3
                              else rng.normal(0, 0.4, w.shape)).astype(w.dtype) for i, w in enumerate(ws)])
    return model


def _write(model, path, how: str):
    shape = model.input_shape[1:]
    if how == "tf2onnx":
        import tensorflow as tf

        sig = (tf.TensorSpec((None, *shape), tf.float32, name="input"),)
        proto, _ = tf2onnx.convert.from_keras(model, input_signature=sig, opset=17)
        onnx.save(proto, str(path))
    else:
        model.export(str(path), format="onnx", verbose=False)


@pytest.mark.parametrize("how", ["tf2onnx", "export"])
@pytest.mark.parametrize("name,make", MODELS, ids=[m[0] for m in MODELS])
def test_keras_onnx_file_imports_and_matches_keras(name, make, how, tmp_path):
    model = _randomize(make())
    x = np.random.default_rng(1).normal(size=(3, *model.input_shape[1:])).astype(np.float32)
    ref = np.asarray(model(x, training=False))
    path = tmp_path / f"{name}.onnx"
    _write(model, path, how)
    spec_dict, params, info = import_onnx_full(path)
    spec = xnn.from_dict(spec_dict)
    kinds = [n.kind for n in spec.nodes]
    if name.startswith("lstm"):
        assert kinds[0] == "LSTM" and spec.nodes[0].layer.output == ("last" if name == "lstm_last" else "sequences")
        node = spec.nodes[0].name  # Keras's one bias is the ONNX W-bias: bias_ih; tf2onnx's R-bias is zero
        np.testing.assert_array_equal(params[f"{node}.bias_hh_l0"], 0.0)
    else:
        assert "Flatten" in kinds and kinds[0] == "Conv2D"
        np.testing.assert_array_equal(to_xnn_input(x, info), x)  # Keras's channels-last input, as it is
    be = xnn.backends.get("torch")
    got = to_onnx_output(be.predict(be.build(spec, params, dtype="float32"), to_xnn_input(x, info)), info)
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() <= 1e-5 * max(1.0, float(np.abs(ref).max()))
    npy = to_onnx_output(xnn.reference_forward(spec, params, to_xnn_input(x, info).astype(np.float64)), info)
    assert np.abs(npy - ref).max() <= 1e-5 * max(1.0, float(np.abs(ref).max()))


def test_batch_placeholder_survives_int32_and_float32_casts():
    """tf2onnx casts shapes to int32 (and exporters sometimes to float32) before a Reshape or an
    Expand: the placeholder for the batch size must come back as itself."""
    assert np.int64(np.int32(SENTINEL)) == SENTINEL
    assert int(np.float32(SENTINEL)) == SENTINEL and float(np.float64(SENTINEL)) == SENTINEL
    assert SENTINEL < 0
