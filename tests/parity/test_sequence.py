"""Sequence and attention layers beyond the registry cases: masking invariants (padded steps
change neither outputs nor gradients), empty rows give zeros, validation, training trajectories
of the examples across torch and Keras, and the examples' accuracy (slow).
"""
from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch  # noqa: F401  (torch before tensorflow in one process)

from xnn.errors import SpecError
from xnn.init import init_params
from xnn.reference import forward
from xnn.spec import from_dict, load_spec

from .harness import assert_close, keras_grads, torch_grads

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
GRAD_RTOL = 1e-8  # float64 gradients, as in the registry parity tests
TRAJ_RTOL = 1e-8  # float64 20-step trajectories, relative to the size of the total update
F = 3

# layer under test, and whether its padded output steps must be zeros (RNNs) or are free
# (attention: a padded query row still attends to the valid keys)
MASKED = {
    "lstm_stacked_bidir": ({"type": "LSTM", "units": 3, "num_layers": 2, "bidirectional": True}, True),
    "lstm_bidir_last": ({"type": "LSTM", "units": 3, "bidirectional": True, "output": "last"}, False),
    "gru_bidir_sum": ({"type": "GRU", "units": 4, "bidirectional": True, "merge": "sum"}, True),
    "gru_state": ({"type": "GRU", "units": 3, "num_layers": 2, "output": "state"}, False),
    "mha_causal": ({"type": "MultiHeadAttention", "num_heads": 2, "causal": True}, False),
    "transformer_post": ({"type": "TransformerEncoderBlock", "num_heads": 2, "mlp_dim": 5, "norm": "post"}, False),
    "avg_pool": ({"type": "MaskedGlobalAvgPool1D"}, False),
    "max_pool": ({"type": "MaskedGlobalMaxPool1D"}, False),
}


def masked_spec(layer: dict, t: int, width: int = 4):
    """input (t, F) -> mask = SequenceMask(input); pre = Dense(input) (pads become nonzero) ->
    node = layer([pre, mask])."""
    model = [{"type": "SequenceMask", "name": "mask", "inputs": ["input"]},
             {"type": "Dense", "units": width, "name": "pre", "inputs": ["input"]},
             {**layer, "name": "node", "inputs": ["pre", "mask"]}]
    return from_dict({"input": {"shape": [t, F], "dtype": "float64"}, "model": model,
                      "train": {"dtype": "float64", "loss": "mse", "metrics": []}})


def padded_batch(t: int, lengths: list[int], seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(len(lengths), t, F))
    for i, n in enumerate(lengths):
        x[i, n:] = 0.0
    return x


def random_params(spec, seed: int = 7) -> dict[str, np.ndarray]:
    """Every parameter random (biases too, which PyTorch-style init leaves at zero for MHA)."""
    rng = np.random.default_rng(seed)
    return {k: rng.uniform(-0.6, 0.6, p.shape) for k, p in spec.param_shapes().items()}


def _predict(backend: str, spec, params, x):
    from xnn.backends import get

    if backend == "numpy":
        return forward(spec, params, x)
    be = get(backend)
    return be.predict(be.build(spec, params, dtype="float64"), x)


@pytest.mark.parametrize("backend", ["numpy", "torch", "keras"])
@pytest.mark.parametrize("name", sorted(MASKED))
def test_padded_steps_change_no_output(name, backend):
    layer, zero_pads = MASKED[name]
    t, lengths = 6, [6, 4, 1]
    spec = masked_spec(layer, t)
    params = random_params(spec)
    x = padded_batch(t, lengths)
    y = _predict(backend, spec, params, x)
    garbage = x.copy()
    garbage[1, 4:] = 0.0  # the same sample padded to a different total length gives the same valid outputs
    for i, n in enumerate(lengths):
        short = masked_spec(layer, n)
        ys = _predict(backend, short, params, x[i:i + 1, :n])[0]
        if y.ndim == 3:  # sequences: valid steps equal the unpadded run
            assert_close(y[i, :n], ys, "float64", f"{name} sample {i} valid steps vs unpadded")
            if zero_pads:
                assert np.all(y[i, n:] == 0.0), f"{name}: padded output steps are not zeros"
        else:
            assert_close(y[i], ys, "float64", f"{name} sample {i} vs unpadded")


@pytest.mark.parametrize("backend", ["torch", "keras"])
@pytest.mark.parametrize("name", sorted(MASKED))
def test_padded_steps_change_no_gradient(name, backend):
    layer, _ = MASKED[name]
    t = 6
    spec = masked_spec(layer, t)
    params = random_params(spec)
    grads = torch_grads if backend == "torch" else keras_grads
    for i, n in enumerate([4, 1]):
        x = padded_batch(t, [n], seed=i)
        r = np.random.default_rng(11 + i).normal(size=(1, *spec.output.out_shape))
        if len(spec.output.out_shape) == 2 and layer["type"] not in ("LSTM", "GRU"):
            r[:, n:] = 0.0  # attention's padded query rows are real outputs: leave them out of the loss
        short = masked_spec(layer, n)
        g, gx = grads(spec, params, x, r)
        gs, gxs = grads(short, params, x[:, :n], r[:, :n] if r.ndim == 3 else r)
        assert set(g) == set(gs)
        for k in g:
            np.testing.assert_allclose(g[k], gs[k], rtol=GRAD_RTOL, atol=1e-12, err_msg=f"{name}: d loss / d {k}")
        np.testing.assert_allclose(gx[:, :n], gxs, rtol=GRAD_RTOL, atol=1e-12, err_msg=f"{name}: d loss / d x")
        assert np.all(gx[:, n:] == 0.0), f"{name}: padded input steps get gradient"


@pytest.mark.parametrize("backend", ["numpy", "torch", "keras"])
@pytest.mark.parametrize("layer", [{"type": "MultiHeadAttention", "num_heads": 2},
                                   {"type": "MultiHeadAttention", "num_heads": 2, "causal": True},
                                   {"type": "LSTM", "units": 3, "bidirectional": True},
                                   {"type": "GRU", "units": 3, "output": "last"},
                                   {"type": "MaskedGlobalMaxPool1D"}],
                         ids=["mha", "mha_causal", "lstm", "gru_last", "max_pool"])
def test_fully_masked_rows_give_zeros(layer, backend):
    spec = masked_spec(layer, 5)
    params = random_params(spec)
    x = padded_batch(5, [5, 0, 2])  # sample 1: every step padded, every key masked
    y = _predict(backend, spec, params, x)
    assert np.all(np.isfinite(y)), "NaN/Inf output"
    assert np.all(y[1] == 0.0), "an empty sample does not give zeros"
    assert np.any(y[0] != 0.0) and np.any(y[2] != 0.0)


def test_fully_masked_rows_have_finite_gradients():
    spec = masked_spec({"type": "MultiHeadAttention", "num_heads": 2, "causal": True}, 5)
    params = random_params(spec)
    x = padded_batch(5, [5, 0, 2])
    r = np.random.default_rng(3).normal(size=(3, *spec.output.out_shape))
    gt, gxt = torch_grads(spec, params, x, r)
    gk, gxk = keras_grads(spec, params, x, r)
    for k in gt:
        assert np.all(np.isfinite(gt[k])), k
        np.testing.assert_allclose(gt[k], gk[k], rtol=GRAD_RTOL, atol=1e-12, err_msg=k)
    assert np.all(gxt[1] == 0.0) and np.all(gxk[1] == 0.0)


@pytest.mark.parametrize("backend", ["numpy", "torch", "keras"])
def test_cross_attention_with_other_length_and_mask(backend):
    """Queries of length 3 (a Reshape of the input) attend over 6 masked key steps."""
    model = [{"type": "SequenceMask", "name": "mask", "inputs": ["input"]},
             {"type": "Dense", "units": 4, "name": "kv", "inputs": ["input"]},
             {"type": "Reshape", "target_shape": [3, 2 * F], "name": "qin", "inputs": ["input"]},
             {"type": "MultiHeadAttention", "name": "node", "num_heads": 2, "key_dim": 3, "value_dim": 2,
              "inputs": ["qin", "kv", "mask"]}]
    spec = from_dict({"input": {"shape": [6, F], "dtype": "float64"}, "model": model,
                      "train": {"dtype": "float64", "loss": "mse", "metrics": []}})
    params = random_params(spec)
    x = padded_batch(6, [6, 3, 1])
    ref = forward(spec, params, x)
    assert ref.shape == (3, 3, 2 * F)
    assert_close(_predict(backend, spec, params, x), ref, "float64", backend)
    x2 = x.copy()
    x2[1, 3:] = 0.0
    assert_close(_predict(backend, spec, params, x2), ref, "float64", "padding only")


def test_sequence_mask_is_a_right_padding_prefix():
    spec = from_dict({"input": {"shape": [6], "dtype": "int64"}, "model": [{"type": "SequenceMask"}],
                      "train": {"loss": "mse", "metrics": []}})
    x = np.array([[3, 0, 2, 0, 0, 0], [0, 0, 0, 0, 0, 0], [1, 1, 1, 1, 1, 4]])
    want = np.array([[1, 1, 1, 0, 0, 0], [0] * 6, [1] * 6], dtype=np.float64)
    for backend in ("numpy", "torch", "keras"):
        np.testing.assert_array_equal(_predict(backend, spec, {}, x), want, err_msg=backend)


# ------------------------------------------------------------------ validation
def _errors(model: list[dict], shape=(6, 4), dtype="float32") -> str:
    with pytest.raises(SpecError) as e:
        from_dict({"input": {"shape": list(shape), "dtype": dtype}, "model": model,
                   "train": {"loss": "mse", "metrics": []}})
    return "\n".join(e.value.messages)


def test_validation_catches_sequence_mistakes():
    msg = _errors([{"type": "MultiHeadAttention", "num_heads": 3}])
    assert "model[0].num_heads" in msg and "does not divide" in msg
    msg = _errors([{"type": "PositionalEmbedding", "max_length": 5}])
    assert "model[0].max_length" in msg and "6 steps" in msg
    msg = _errors([{"type": "Dense", "units": 2, "name": "m"},
                   {"type": "LSTM", "units": 3, "inputs": ["input", "m"]}])
    assert "model[1].inputs" in msg and "mask must have shape (6,)" in msg
    short_mask = [{"type": "SequenceMask", "name": "m"},
                  {"type": "Reshape", "target_shape": [2, 3], "name": "m23", "inputs": ["m"]},
                  {"type": "GlobalAvgPool1D", "name": "m3", "inputs": ["m23"]}]  # (3,): too short
    msg = _errors([*short_mask, {"type": "MultiHeadAttention", "num_heads": 2, "inputs": ["input", "m3"]}])
    assert "model[3].inputs" in msg and "key padding mask must have shape (6,)" in msg
    msg = _errors([{"type": "SequenceMask", "name": "m"},
                   {"type": "MaskedGlobalAvgPool1D", "name": "p", "inputs": ["input", "input"]}])
    assert "model[1].inputs" in msg and "mask" in msg
    # a state passed where none is returned: shape mismatch, and a same-shaped non-state
    msg = _errors([{"type": "LSTM", "units": 3, "output": "last", "name": "enc"},
                   {"type": "LSTM", "units": 3, "initial_state": True, "inputs": ["input", "enc"]}])
    assert "model[1].inputs" in msg and "initial state must have shape (6,)" in msg
    msg = _errors([{"type": "GRU", "units": 3, "output": "last", "name": "enc"},
                   {"type": "GRU", "units": 3, "initial_state": True, "inputs": ["input", "enc"]}])
    assert "'enc'" in msg and "returns no such state" in msg
    msg = _errors([{"type": "LSTM", "units": 3, "initial_state": True}])
    assert "model[0].initial_state" in msg


def test_validate_imports_no_framework():
    tiny, lstm = str(EXAMPLES / "tiny_transformer.yaml"), str(EXAMPLES / "digits_lstm.yaml")
    code = (f"import sys; from xnn.spec import load_spec; load_spec({tiny!r}); load_spec({lstm!r}); "
            "bad = [m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_transformer_block_expands_into_registry_nodes():
    spec = load_spec(EXAMPLES / "tiny_transformer.yaml")
    kinds = {n.name: n.kind for n in spec.nodes}
    assert kinds["block1"] == "Add" and kinds["block1_attn"] == "MultiHeadAttention"
    assert kinds["block1_act"] == "Activation" and kinds["block1_ln1"] == "LayerNorm"
    assert "TransformerEncoderBlock" not in kinds.values()
    assert spec.raw["model"][3]["type"] == "TransformerEncoderBlock"  # spec.yaml keeps the block
    assert spec.node_map["block1_attn"].inputs == ("block1_ln1", "mask")


# ------------------------------------------------------------------ training
def _trajectory(spec, backend: str, params, batches):
    import importlib

    from xnn.backends import get

    be = get(backend)
    tr_mod = importlib.import_module(f"xnn.backends.{backend}.train")
    tr_mod.configure(spec.train)
    model = be.build(spec, params, dtype="float64")
    tr = tr_mod.Trainer(spec, model, "float64", steps_per_epoch=len(batches))
    losses = [tr.train_step(x, y) for x, y in batches]
    return be.get_params(model), losses


@pytest.mark.parametrize("example", ["digits_lstm", "tiny_transformer"])
def test_twenty_step_trajectory_torch_keras(example):
    from xnn.data import load

    spec = load_spec(EXAMPLES / f"{example}.yaml", overrides={"train.dtype": "float64", "train.batch_size": 16})
    data = load(spec)
    x, y = data.train
    batches = [(x[i * 16:(i + 1) * 16], y[i * 16:(i + 1) * 16]) for i in range(20)]
    p0 = init_params(spec)
    pt, lt = _trajectory(spec, "torch", copy.deepcopy(p0), batches)
    pk, lk = _trajectory(spec, "keras", copy.deepcopy(p0), batches)
    np.testing.assert_allclose(lt, lk, rtol=TRAJ_RTOL, err_msg="losses")
    for k in p0:
        if k.endswith(".k_bias"):
            # softmax ignores a shift shared by all keys, so d loss / d k_bias is exactly zero and
            # only rounding noise moves it, differently per backend: check that it stays put
            assert np.max(np.abs(pt[k] - p0[k])) < 1e-9 and np.max(np.abs(pk[k] - p0[k])) < 1e-9, k
            continue
        moved = float(np.max(np.abs(pt[k] - p0[k])))
        err = float(np.max(np.abs(pt[k] - pk[k])))
        assert moved > 0, f"{k} did not train"
        assert err <= TRAJ_RTOL * moved, f"{k}: torch vs keras {err:.3e} after 20 steps (update size {moved:.3e})"


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["torch", "keras"])
@pytest.mark.parametrize("example", ["digits_lstm", "tiny_transformer"])
def test_example_accuracy(example, backend):
    from xnn.train.loop import fit

    r = fit(load_spec(EXAMPLES / f"{example}.yaml"), backend, progress=False)
    assert r.test["accuracy"] >= 0.95, f"{example} on {backend}: test accuracy {r.test['accuracy']:.3f}"


@pytest.mark.parametrize("masked", [True, False], ids=["masked", "unmasked"])
@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_encoder_state_feeds_bidirectional_decoder(kind, masked):
    """A stacked bidirectional encoder's ``output: state`` initialises a same-shaped decoder,
    on NumPy, torch, Keras (float64) and ONNX Runtime (float32)."""
    from xnn.interop.onnx import build_model
    from xnn.interop.onnx import run_onnx

    enc = {"type": kind, "units": 3, "num_layers": 2, "bidirectional": True}
    ins = ["pre", "mask"] if masked else ["pre"]
    model = [{"type": "SequenceMask", "name": "mask", "inputs": ["input"]},
             {"type": "Dense", "units": 4, "name": "pre", "inputs": ["input"]},
             {**enc, "name": "enc", "output": "state", "inputs": ins},
             {**enc, "name": "dec", "initial_state": True, "merge": "sum", "inputs": [*ins, "enc"]},
             {"type": "MaskedGlobalAvgPool1D", "name": "pool", "inputs": ["dec", "mask"]}]
    spec = from_dict({"input": {"shape": [5, F], "dtype": "float64"}, "model": model,
                      "train": {"dtype": "float64", "loss": "mse", "metrics": []}})
    params = random_params(spec)
    x = padded_batch(5, [5, 3, 1])
    ref = forward(spec, params, x)
    for backend in ("torch", "keras"):
        assert_close(_predict(backend, spec, params, x), ref, "float64", backend)
    y = run_onnx(build_model(spec, params), x.astype(np.float32))
    assert_close(y, ref, "float32", "onnxruntime")
