"""relu6 / hard_sigmoid / hard_swish at their kinks, Multiply / Subtract / GroupNorm / LRN inside
graphs where torch runs channels-first, SpatialDropout in training, and the conversions the layer
docs state (TensorFlow's LRN radius and alpha, the InstanceNorm alias, clear shape errors).

The registry cases (tests/parity/test_layers.py and the interop tests) run every kind on seeded
normal inputs; here the inputs are chosen: values right at and next to -3, 0, 3 and 6, where the
piecewise-linear activations change slope.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from xnn.errors import SpecError
from xnn.init import init_params
from xnn.reference import forward
from xnn.spec import from_dict

from .harness import GRAD_RTOL, assert_close, keras_grads, torch_grads

KINKS = np.array([-9.0, -6.01, -6.0, -5.99, -3.01, -3.0, -2.99, -1.5, -0.01, 0.0, 0.01, 1.5, 2.99, 3.0, 3.01,
                  5.99, 6.0, 6.01, 9.0])
# gradients next to the kinks only: at a kink each framework picks its own one-sided slope
NEAR = np.array([-6.01, -5.99, -3.01, -2.99, -0.01, 0.01, 2.99, 3.01, 5.99, 6.01, -7.0, 7.0, 1.0])
PIECEWISE = ("relu6", "hard_sigmoid", "hard_swish")


def _spec(shape, model, dtype="float64"):
    return from_dict({"input": {"shape": list(shape)}, "model": model,
                      "train": {"dtype": dtype, "loss": "mse", "metrics": []}})


def _exact(fn, x):
    r6 = np.minimum(np.maximum(x + 3.0, 0.0), 6.0)
    return {"relu6": np.minimum(np.maximum(x, 0.0), 6.0), "hard_sigmoid": r6 / 6.0, "hard_swish": x * r6 / 6.0}[fn]


def _slope(fn, x):
    inside = (x > -3) & (x < 3)
    return {"relu6": ((x > 0) & (x < 6)).astype(float), "hard_sigmoid": inside / 6.0,
            "hard_swish": np.where(x >= 3, 1.0, np.where(inside, (2 * x + 3) / 6.0, 0.0))}[fn]


@pytest.mark.parametrize("fn", PIECEWISE)
def test_piecewise_activations_at_the_kinks(fn):
    from xnn.backends import get

    spec = _spec([KINKS.size], [{"type": "Activation", "name": "act", "fn": fn}])
    x = np.stack([KINKS, -KINKS])
    want = _exact(fn, x)
    np.testing.assert_array_equal(forward(spec, {}, x), want)
    for be in ("torch", "keras"):
        b = get(be)
        assert_close(b.predict(b.build(spec, {}, dtype="float64"), x), want, "float64", f"{be} {fn}")


@pytest.mark.parametrize("fn", PIECEWISE)
def test_piecewise_gradients_next_to_the_kinks(fn):
    spec = _spec([NEAR.size], [{"type": "Activation", "name": "act", "fn": fn}])
    x = np.stack([NEAR, NEAR[::-1]])
    r = np.ones_like(x)
    _, gt = torch_grads(spec, {}, x, r)
    _, gk = keras_grads(spec, {}, x, r)
    np.testing.assert_allclose(gt, _slope(fn, x), rtol=1e-15, atol=1e-15, err_msg="torch")
    np.testing.assert_allclose(gk, _slope(fn, x), rtol=1e-15, atol=1e-15, err_msg="keras")


@pytest.mark.parametrize("fn", PIECEWISE)
def test_piecewise_onnx_at_the_kinks(fn):
    """float32 files use HardSigmoid/HardSwish (float32 alpha); float64 files the exact formula."""
    import onnxruntime as ort

    from xnn.interop.onnx import build_model

    spec = _spec([KINKS.size], [{"type": "Activation", "name": "act", "fn": fn}], "float32")
    x = np.stack([KINKS, -KINKS])
    for dtype, opset in (("float32", 13), ("float32", 17), ("float64", 17)):
        model = build_model(spec, {}, opset, dtype=dtype)
        ops = {n.op_type for n in model.graph.node}
        if dtype == "float64":
            assert not ops & {"HardSigmoid", "HardSwish"}, ops
        elif fn == "hard_swish":
            assert ("HardSwish" in ops) == (opset >= 14), ops
        sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        y = sess.run(None, {"input": x.astype(dtype)})[0]
        assert_close(y, _exact(fn, x), dtype, f"onnx {dtype} opset {opset}")


@pytest.mark.skipif(shutil.which("octave-cli") is None, reason="GNU Octave (octave-cli) is not installed")
def test_piecewise_octave_at_the_kinks(tmp_path):
    from tests.interop.test_mat_octave import MATLAB_DIR, run_octave
    from xnn.interop.mat import export_mat

    x = np.stack([KINKS, -KINKS])
    lines = []
    for fn in PIECEWISE:
        spec = _spec([KINKS.size], [{"type": "Activation", "name": "act", "fn": fn}])
        export_mat(spec, {}, tmp_path / f"{fn}.mat", ref_input=x)
        lines.append(f"m = xnn.load('{tmp_path / fn}.mat'); [ok, a, r] = xnn.compare(m); "
                     f"fprintf('XNNRESULT %s %d %.3e\\n', '{fn}', ok, a);")
    out = run_octave(f"warning('off', 'all'); addpath('{MATLAB_DIR}');\n" + "\n".join(lines), tmp_path)
    res = [ln.split() for ln in out.splitlines() if ln.startswith("XNNRESULT")]
    assert len(res) == 3 and all(r[2] == "1" and float(r[3]) <= 1e-12 for r in res), out


# ---------------------------------------------------------------- inside channels-first graphs
GRAPHS = {
    # squeeze-and-excitation: a channels-first conv output times a (C,) gate, minus the conv output
    "se_block": ([6, 5, 3], [
        {"type": "Conv2D", "name": "conv", "filters": 4, "kernel_size": 3, "padding": "same"},
        {"type": "GlobalAvgPool2D", "name": "gap"},
        {"type": "Dense", "name": "fc", "units": 4},
        {"type": "Activation", "name": "gate", "fn": "hard_sigmoid"},
        {"type": "Multiply", "name": "scaled", "inputs": ["conv", "gate"]},
        {"type": "Subtract", "name": "diff", "inputs": ["scaled", "conv"]},
        {"type": "Activation", "name": "act", "fn": "hard_swish"},
    ]),
    "conv_groupnorm_lrn": ([7, 5, 2], [
        {"type": "Conv2D", "name": "conv", "filters": 6, "kernel_size": 3, "strides": 2, "padding": "same"},
        {"type": "GroupNorm", "name": "gn", "groups": 3},
        {"type": "Activation", "name": "r6", "fn": "relu6"},
        {"type": "LRN", "name": "lrn", "size": 3, "alpha": 0.4, "beta": 0.75, "bias": 1.5},
        {"type": "Conv2D", "name": "conv2", "filters": 4, "kernel_size": 1},
        {"type": "InstanceNorm", "name": "inorm"},
        {"type": "SpatialDropout2D", "name": "sdrop", "rate": 0.2},
    ]),
    "conv1d_groupnorm_keepdims_gate": ([9, 3], [
        {"type": "Conv1D", "name": "conv", "filters": 4, "kernel_size": 3, "padding": "same"},
        {"type": "GroupNorm", "name": "gn", "groups": 2, "eps": 1e-3},
        {"type": "SpatialDropout1D", "name": "sdrop", "rate": 0.3},
        {"type": "GlobalAvgPool1D", "name": "gap"},
        {"type": "Reshape", "name": "keep", "target_shape": [1, 4]},
        {"type": "Multiply", "name": "gated", "inputs": ["sdrop", "keep", "sdrop"]},
        {"type": "LRN", "name": "lrn", "size": 3, "alpha": 0.2},
    ]),
}


def _params(spec, seed=0):
    p = init_params(spec, seed=1)
    rng = np.random.default_rng(seed)
    for k in p:
        if k.split(".")[0] in ("gn", "inorm"):  # non-trivial affine params
            p[k] = rng.normal(size=p[k].shape)
    return p


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_graph_forward_and_gradients(name):
    from xnn.backends import get

    shape, model = GRAPHS[name]
    spec = _spec(shape, model)
    params = _params(spec)
    x = np.random.default_rng(2).normal(scale=2.0, size=(3, *shape))
    ref = forward(spec, params, x)
    tm = get("torch").build(spec, params, dtype="float64")
    if name != "conv1d_groupnorm_keepdims_gate":
        assert tm._plan[-1][0] and any(c == "cf" for _, ins in tm._plan for _, c in ins), "torch ran channels-last"
    for be in ("torch", "keras"):
        b = get(be)
        assert_close(b.predict(b.build(spec, params, dtype="float64"), x), ref, "float64", f"{be} {name}")
    r = np.random.default_rng(3).normal(size=ref.shape)
    gt, gxt = torch_grads(spec, params, x, r)
    gk, gxk = keras_grads(spec, params, x, r)
    assert set(gt) == set(gk)
    for k in gt:
        np.testing.assert_allclose(gt[k], gk[k], rtol=GRAD_RTOL, atol=1e-12, err_msg=k)
    np.testing.assert_allclose(gxt, gxk, rtol=GRAD_RTOL, atol=1e-12)


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_graph_onnx_and_mat_roundtrip(name, tmp_path):
    from xnn.interop.mat import export_mat, import_mat
    from xnn.interop.onnx import build_model, max_opset

    from ..interop._onnx_util import ort_run

    shape, model = GRAPHS[name]
    spec = _spec(shape, model, "float32")
    params = _params(spec)
    x = np.random.default_rng(2).normal(size=(3, *shape))
    for opset in (13, 17, 21, max_opset()):
        assert_close(ort_run(build_model(spec, params, opset), x.astype(np.float32)), forward(spec, params, x),
                     "float32", f"{name}@{opset}")
    export_mat(spec, params, tmp_path / "m.mat", ref_input=x)
    _, back = import_mat(tmp_path / "m.mat")
    for k in params:
        np.testing.assert_array_equal(back[k], params[k].astype(np.float32), err_msg=k)


def test_groupnorm_training_equals_evaluation():
    """No running statistics: a training-mode pass is the evaluation pass (both backends)."""
    import torch

    from xnn.backends import get

    spec = _spec([5, 4, 3], GRAPHS["conv_groupnorm_lrn"][1][:2])
    params = _params(spec)
    x = np.random.default_rng(4).normal(size=(4, 5, 4, 3))
    ref = forward(spec, params, x)
    tm = get("torch").build(spec, params, dtype="float64")
    tm.train()
    with torch.no_grad():
        assert_close(tm(torch.tensor(x)).numpy(), ref, "float64", "torch train()")
    km = get("keras").build(spec, params, dtype="float64")
    assert_close(np.asarray(km(x, training=True)), ref, "float64", "keras training=True")


# ---------------------------------------------------------------- SpatialDropout in training
@pytest.mark.parametrize("kind,shape", [("SpatialDropout1D", (7, 40)), ("SpatialDropout2D", (4, 3, 40))])
@pytest.mark.parametrize("backend", ["numpy", "torch", "keras"])
def test_spatial_dropout_drops_whole_channels(kind, shape, backend):
    import torch

    from xnn.backends import get

    rate = 0.4
    spec = _spec(shape, [{"type": kind, "name": "drop", "rate": rate}])
    x = np.random.default_rng(5).uniform(0.5, 2.0, size=(48, *shape))
    if backend == "numpy":
        y = spec.nodes[0].layer.forward({}, [x], training=True, rng=np.random.default_rng(6))
    else:
        be = get(backend)
        model = be.build(spec, dtype="float64")
        np.testing.assert_array_equal(be.predict(model, x), x, err_msg="evaluation must be the identity")
        if backend == "torch":
            model.train()
            with torch.no_grad():
                y = model(torch.tensor(x)).numpy()
        else:
            y = np.asarray(model(x, training=True))
    axes = tuple(range(1, x.ndim - 1))
    dropped = (y == 0).all(axis=axes)  # (N, C): a whole channel
    kept = (y != 0).all(axis=axes)
    assert np.all(dropped | kept), "an element-wise mask: some channels are partly zero"
    np.testing.assert_allclose(y[np.broadcast_to(np.expand_dims(kept, axes), y.shape)] /
                               x[np.broadcast_to(np.expand_dims(kept, axes), x.shape)], 1 / (1 - rate), rtol=1e-15)
    n = dropped.size
    assert abs(dropped.mean() - rate) <= 6 * np.sqrt(rate * (1 - rate) / n), dropped.mean()


# ---------------------------------------------------------------- conventions and errors
def test_lrn_matches_tensorflow_radius_and_undivided_alpha():
    """TF's ``local_response_normalization(depth_radius=r, alpha=a)`` is xnn's size 2r+1, alpha a*(2r+1)
    (TF's kernel is float32 only, its attributes float32: compared at the float32 tolerance)."""
    import tensorflow as tf

    x = np.random.default_rng(7).normal(size=(2, 4, 3, 9))
    for r, a, beta, k in ((1, 0.05, 0.75, 2.0), (2, 0.3, 0.5, 1.0), (3, 1e-4, 0.75, 1.0)):
        size = 2 * r + 1
        spec = _spec([4, 3, 9], [{"type": "LRN", "name": "lrn", "size": size, "alpha": a * size, "beta": beta,
                                  "bias": k}])
        tf_y = tf.nn.local_response_normalization(tf.constant(x, tf.float32), depth_radius=r, bias=k, alpha=a,
                                                  beta=beta).numpy()
        assert_close(tf_y, forward(spec, {}, x), "float32", f"r={r}")


def test_lrn_matches_torch_local_response_norm():
    import torch

    x = np.random.default_rng(8).normal(size=(2, 5, 4, 7))  # channels last
    spec = _spec([5, 4, 7], [{"type": "LRN", "name": "lrn", "size": 5, "alpha": 0.7, "beta": 0.6, "bias": 1.2}])
    ref = torch.nn.LocalResponseNorm(5, alpha=0.7, beta=0.6, k=1.2)(torch.tensor(x).permute(0, 3, 1, 2))
    assert_close(forward(spec, {}, x), ref.permute(0, 2, 3, 1).numpy(), "float64", "torch LocalResponseNorm")


def test_instance_norm_alias_and_groups():
    spec = _spec([4, 3, 6], [{"type": "InstanceNorm", "name": "a", "affine": False},
                             {"type": "GroupNorm", "name": "b", "groups": -1},
                             {"type": "GroupNorm", "name": "c", "groups": 6}])
    a, b, c = spec.nodes
    assert a.kind == b.kind == "GroupNorm" and a.layer.groups == -1 and not a.params
    x = np.random.default_rng(9).normal(size=(2, 4, 3, 6))
    p = init_params(spec, seed=1)
    wb = {"weight": p["b.weight"], "bias": p["b.bias"]}
    np.testing.assert_array_equal(b.layer.forward(wb, [x]), c.layer.forward(wb, [x]))


@pytest.mark.parametrize("alias,fn", [("ReLU6", "relu6"), ("relu6", "relu6"), ("Hardsigmoid", "hard_sigmoid"),
                                      ("hard_sigmoid", "hard_sigmoid"), ("Hardswish", "hard_swish"),
                                      ("hard_silu", "hard_swish"), ("hard_swish", "hard_swish")])
def test_activation_aliases(alias, fn):
    spec = _spec([3], [alias])
    assert spec.nodes[0].kind == "Activation" and spec.nodes[0].layer.fn == fn


@pytest.mark.parametrize("model,want", [
    ([{"type": "Conv2D", "name": "c", "filters": 4, "kernel_size": 1},
      {"type": "Dense", "name": "d", "units": 3, "inputs": ["input"]},
      {"type": "Multiply", "name": "m", "inputs": ["c", "d"]}], "model[2].inputs: input shapes"),
    ([{"type": "Dense", "name": "d", "units": 2},
      {"type": "Subtract", "name": "s", "inputs": ["input", "d", "d"]}], "model[1]"),
    ([{"type": "LRN", "name": "l", "size": 4}], "must be odd"),
    ([{"type": "GroupNorm", "name": "g", "groups": 4}], "model[0].groups: 4 groups do not divide the 3 channels"),
    ([{"type": "GroupNorm", "name": "g", "groups": 0}], "must be a positive number of groups"),
    ([{"type": "SpatialDropout2D", "name": "s"}, {"type": "SpatialDropout1D", "name": "t", "inputs": ["input"]}],
     "model[1]"),
])
def test_clear_errors(model, want):
    with pytest.raises(SpecError) as e:
        _spec([5, 4, 3], model)
    assert want in str(e.value), str(e.value)
    assert str(e.value).startswith(want.split(":")[0] if want.startswith("model") else "model[0]")


def test_keras_custom_layers_save_and_load(tmp_path):
    import keras

    from xnn.backends import get

    shape, model = GRAPHS["conv_groupnorm_lrn"]
    spec = _spec(shape, model)
    params = _params(spec)
    km = get("keras").build(spec, params, dtype="float64")
    km.save(tmp_path / "m.keras")
    back = keras.saving.load_model(tmp_path / "m.keras")
    x = np.random.default_rng(10).normal(size=(2, *shape))
    np.testing.assert_array_equal(np.asarray(back(x)), np.asarray(km(x)))
