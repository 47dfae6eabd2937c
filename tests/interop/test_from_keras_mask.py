"""Keras 3 models with masks (``Embedding(mask_zero=True)``, ``Masking``) imported with
``xnn.from_keras``: the Keras mask becomes an explicit SequenceMask node that LSTM/GRU,
Bidirectional, the masked pooling layers and MultiHeadAttention (key mask) take as an input.
Each model is compared with Keras's own output in float64 (1e-10) on right-padded batches with a
different length per sample (a full-length one included), its saved ``.keras`` file imports to
the same spec and weights, then the import runs through five-path parity. A mask that reaches a
layer xnn cannot give it to is refused by name with the reason.
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
import xnn
import xnn.backends
from xnn.errors import FormatError
from xnn.interop.keras import import_keras
from xnn.parity import run_parity

PATHS = ("torch", "keras", "onnx") + (("octave",) if shutil.which("octave-cli") else ())
T, V = 6, 9  # sequence length, vocabulary (id 0 is padding)
LENS = [6, 3, 1, 5]  # right padding, one full-length sample


def _ids(seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros((len(LENS), T), dtype=np.int64)
    for i, n in enumerate(LENS):
        x[i, :n] = rng.integers(1, V, size=n)
    return x


def _features(pad: float, f: int = 3, seed: int = 1) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(len(LENS), T, f))
    for i, n in enumerate(LENS):
        x[i, n:] = pad
    return x


# ------------------------------------------------------------------------------ models
def emb_lstm():
    """Embedding(mask_zero) -> LSTM (the last valid step) -> Dense."""
    return keras.Sequential([keras.Input((T,), dtype="int64"), L.Embedding(V, 4, mask_zero=True, name="emb"),
                             L.LSTM(5, name="lstm"), L.Dense(3, name="head")], name="emb_lstm"), _ids()


def emb_gru_avg():
    """GRU sequences (Keras repeats the last valid output at masked steps) through a per-step Dense
    into GlobalAveragePooling1D, which skips masked steps: the masked average."""
    return keras.Sequential([keras.Input((T,), dtype="int64"), L.Embedding(V, 4, mask_zero=True),
                             L.GRU(4, return_sequences=True, name="gru"), L.Dense(4, activation="tanh"),
                             L.GlobalAveragePooling1D(name="avg"), L.Dense(2)], name="emb_gru_avg"), _ids(2)


def masking_lstm():
    """Masking (pad 0) -> LSTM sequences -> LayerNorm -> LSTM (the mask reaches the second LSTM)."""
    return keras.Sequential([keras.Input((T, 3)), L.Masking(0.0, name="mask0"),
                             L.LSTM(4, return_sequences=True, name="enc"), L.LayerNormalization(name="ln"),
                             L.LSTM(3, name="dec"), L.Dense(2)], name="masking_lstm"), _features(0.0)


def bidi_stack():
    """Bidirectional LSTM sequences (concat) -> Dropout -> Bidirectional GRU last (sum)."""
    return keras.Sequential([keras.Input((T,), dtype="int64"), L.Embedding(V, 3, mask_zero=True),
                             L.Bidirectional(L.LSTM(3, return_sequences=True), name="bl"), L.Dropout(0.2),
                             L.Bidirectional(L.GRU(2), merge_mode="sum", name="bg"), L.Dense(2)],
                            name="bidi_stack"), _ids(3)


def masking_branches():
    """Functional: Masking(0) -> LSTM sequences -> LSTM; Dense -> Masking(-1) (Keras zeros the masked
    steps: a Multiply by the mask) -> Bidirectional LSTM sequences (zeros at masked steps in Keras
    and xnn) -> GlobalMaxPooling1D (Keras's runs over every step); Concatenate."""
    inp = keras.Input((T, 3))
    a = L.LSTM(4, return_sequences=True, name="enc")(L.Masking(0.0, name="mask0")(inp))
    a = L.LSTM(3, name="dec")(a)
    y = L.Masking(-1.0, name="mask_neg")(L.Dense(3, name="pre")(inp))
    y = L.Bidirectional(L.LSTM(2, return_sequences=True), name="bi")(y)
    y = L.GlobalMaxPooling1D(name="gmp")(y)
    out = L.Dense(2)(L.Concatenate()([a, y]))
    return keras.Model(inp, out, name="masking_branches"), _features(0.0)


def attention_carry_max():
    """Functional: self-attention with the key mask (+ residual Add, LayerNorm) into masked average
    pooling; two embeddings of the ids (one mask) concatenated into an LSTM's sequences, through a
    per-step Dense into GlobalMaxPooling1D: the max over the valid steps (Keras's repeated last
    valid output is one of them)."""
    inp = keras.Input((T,), dtype="int64")
    e = L.Embedding(V, 4, mask_zero=True)(inp)
    a = L.MultiHeadAttention(2, 4, name="mha")(e, e)  # key_dim 4: Keras scales by a float32 1/sqrt(key_dim)
    a = L.LayerNormalization()(L.Add()([e, a]))
    a = L.GlobalAveragePooling1D()(a)
    e2 = L.Embedding(V, 2, mask_zero=True)(inp)
    s = L.LSTM(3, return_sequences=True, name="seq")(L.Concatenate()([e, e2]))
    s = L.Dense(3, activation="relu")(s)
    s = L.GlobalMaxPooling1D(name="max")(s)
    return keras.Model(inp, L.Dense(2)(L.Concatenate()([a, s])), name="attention_carry_max"), _ids(4)


SEQUENTIAL = [emb_lstm, emb_gru_avg, masking_lstm, bidi_stack]
FUNCTIONAL = [masking_branches, attention_carry_max]


def _check(model, x):
    ref = np.asarray(model(x, training=False))
    spec_dict, params = xnn.from_keras(model)
    spec = xnn.from_dict(spec_dict)
    be = xnn.backends.get("torch")
    got = np.asarray(be.predict(be.build(spec, params, dtype="float64"), x))
    tol = 1e-10 * max(1.0, float(np.abs(ref).max()))
    assert got.shape == ref.shape and np.abs(got - ref).max() <= tol, np.abs(got - ref).max()
    npy = xnn.reference_forward(spec, params, x)
    assert np.abs(npy - ref).max() <= tol
    return spec_dict, params, spec


def _parity(spec, params, x):
    rep = run_parity(spec, params, paths=PATHS, dtype="float64", x=x)
    bad = [(p.path, p.max_rel) for p in rep.paths if not p.ok] + [(q.a, q.b) for q in rep.pairs if not q.ok]
    assert rep.ok, bad


def _same_import(path, spec_dict, params):
    spec2, params2 = import_keras(path)  # the `xnn import model.keras` path
    assert spec2 == spec_dict
    assert params2.keys() == params.keys() and all(np.array_equal(params2[k], params[k]) for k in params)


@pytest.mark.parametrize("make", SEQUENTIAL + FUNCTIONAL, ids=[m.__name__ for m in SEQUENTIAL + FUNCTIONAL])
def test_masked_float64_equals_keras_then_five_paths(make, f64, tmp_path):
    model, x = make()
    randomize(model, scale=0.5)
    spec_dict, params, spec = _check(model, x)
    assert "SequenceMask" in [n["type"] for n in spec_dict["model"]]
    if make in SEQUENTIAL:  # a Sequential config holds no mask ops: its file imports today
        model.save(tmp_path / "m.keras")
        _same_import(tmp_path / "m.keras", spec_dict, params)
    _parity(spec, params, x)


@pytest.mark.parametrize("make", FUNCTIONAL, ids=[m.__name__ for m in FUNCTIONAL])
def test_functional_masked_file(make, f64, tmp_path):
    model, _ = make()
    randomize(model, scale=0.5)
    spec_dict, params = xnn.from_keras(model)
    model.save(tmp_path / "m.keras")
    _same_import(tmp_path / "m.keras", spec_dict, params)


def test_mask_nodes(f64):
    n = {d["name"]: d for d in xnn.from_keras(emb_lstm()[0])[0]["model"]}
    assert n["emb_mask"] == {"type": "SequenceMask", "name": "emb_mask", "inputs": ["input"]}
    assert n["lstm"]["inputs"] == ["emb", "emb_mask"] and n["lstm"]["output"] == "last"
    n = {d["name"]: d for d in xnn.from_keras(emb_gru_avg()[0])[0]["model"]}
    assert n["avg"]["type"] == "MaskedGlobalAvgPool1D"
    n = {d["name"]: d for d in xnn.from_keras(masking_branches()[0])[0]["model"]}
    assert n["mask0_mask"]["inputs"] == ["input"] and "pad_value" not in n["mask0_mask"]
    assert n["enc"]["inputs"] == ["input", "mask0_mask"]  # Masking(0) passes its input through
    assert n["mask_neg_mask"]["pad_value"] == -1.0 and n["mask_neg"]["type"] == "Multiply"  # Keras zeros pads
    assert n["gmp"]["type"] == "GlobalMaxPool1D"  # Keras's GlobalMaxPooling1D ignores the mask
    dropped = keras.Sequential([keras.Input((T,), dtype="int64"), L.Embedding(V, 4, mask_zero=True),
                                L.Conv1D(3, 2, padding="same"), L.GlobalAveragePooling1D()])
    # Keras's Conv1D drops the mask: the pooling after it averages every step, no SequenceMask
    assert [d["type"] for d in xnn.from_keras(dropped)[0]["model"]] == ["Embedding", "Conv1D", "GlobalAvgPool1D"]
    n = {d["name"]: d for d in xnn.from_keras(attention_carry_max()[0])[0]["model"]}
    assert n["mha"]["inputs"][-1].endswith("_mask") and n["max"]["type"] == "MaskedGlobalMaxPool1D"


def test_masked_steps_that_differ_are_refused_by_name():
    inp = keras.Input((T,), dtype="int64")
    e = L.Embedding(V, 4, mask_zero=True, name="emb")(inp)
    s = L.LSTM(3, return_sequences=True, name="enc")(e)
    # Keras repeats the last valid output at masked steps, xnn's LSTM outputs zeros: the output
    # and a layer reading every step (Flatten) would see the difference
    with pytest.raises(FormatError) as ex:
        xnn.from_keras(keras.Model(inp, L.Dense(2, name="head")(s)))
    (msg,) = ex.value.messages
    assert "'head' (Dense)" in msg and "'enc'" in msg and "repeats the last valid output" in msg
    with pytest.raises(FormatError) as ex:
        xnn.from_keras(keras.Model(inp, L.Dense(2)(L.Flatten(name="flat")(s))))
    assert "'flat' (Flatten)" in str(ex.value) and "zero_output_for_mask=True" in str(ex.value)
    with pytest.raises(FormatError, match="'g' \\(GRU\\): zero_output_for_mask=True with return_sequences=False"):
        xnn.from_keras(keras.Model(inp, L.GRU(2, zero_output_for_mask=True, name="g")(e)))
    z = L.LSTM(3, return_sequences=True, zero_output_for_mask=True, name="zeros")(e)
    spec, _ = xnn.from_keras(keras.Model(inp, L.Flatten()(z)))  # zeros at masked steps: as xnn's
    assert spec["model"][-1]["type"] == "Flatten"
    # layers that consume a mask xnn cannot pass on: all refused at once, by name
    sm = L.Softmax(name="sm")(L.Dense(T)(e))  # Keras applies the (N, T) mask along the softmax axis
    bn = L.BatchNormalization(name="bn")(e)  # Keras's training moments skip masked steps
    cat = L.Concatenate(axis=1, name="cat_time")([e, e])  # the joined mask is no valid prefix
    out = L.Concatenate()([L.Flatten()(sm), L.Flatten()(bn), L.Flatten()(cat)])
    with pytest.raises(FormatError) as ex:
        xnn.from_keras(keras.Model(inp, out))
    msgs = ex.value.messages
    assert len(msgs) == 3, msgs
    assert "'sm' (Softmax)" in msgs[0] and "mask" in msgs[0]
    assert "'bn' (BatchNormalization)" in msgs[1] and "moments" in msgs[1]
    assert "'cat_time' (Concatenate)" in msgs[2] and "prefix" in msgs[2]
