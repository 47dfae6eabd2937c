"""Training-mode semantics that evaluation-mode parity cannot see.

BatchNorm: the training-mode output and the updated running statistics after one forward pass,
torch vs Keras vs NumPy (float64), on (F,), (L, C), (H, W, C) inputs, also on channels-first
tensors in torch (after a convolution); frozen BatchNorm uses and keeps its running statistics.
Dropout: identity in evaluation; in training, the fraction of zeros matches ``rate`` within a
binomial bound and survivors are scaled by 1/(1 - rate), on both backends.
Training mode: torch ``model.train(); model(x)``; Keras ``model(x, training=True)``.
"""
import numpy as np
import pytest

from xnn.init import init_params
from xnn.reference import forward
from xnn.spec import from_dict

from .harness import assert_close

BN_INPUTS = {
    "features": ([6], []),
    "signal": ([9, 3], []),
    "image": ([5, 4, 3], []),
    # a 1x1 conv first, so the torch graph hands BatchNorm a channels-first tensor
    "image_channels_first": ([5, 4, 2], [{"type": "Conv2D", "name": "conv", "filters": 3, "kernel_size": 1}]),
}


def _bn_spec(key, **bn_fields):
    shape, pre = BN_INPUTS[key]
    model = [*pre, {"type": "BatchNorm", "name": "bn", "momentum": 0.3, **bn_fields}]
    return from_dict({"input": {"shape": shape}, "model": model,
                      "train": {"dtype": "float64", "loss": "mse", "metrics": []}})


def _bn_params(spec, seed=0):
    p = init_params(spec, seed=1)
    rng = np.random.default_rng(seed)
    c = p["bn.weight"].shape
    p.update({"bn.weight": rng.normal(size=c), "bn.bias": rng.normal(size=c),
              "bn.running_mean": rng.normal(size=c), "bn.running_var": rng.uniform(0.5, 2.0, size=c)})
    return p


def _train_forward(backend, spec, params, x):
    """One training-mode forward pass; returns (output, canonical params afterwards)."""
    from xnn.backends import get

    be = get(backend)
    model = be.build(spec, params, dtype="float64")
    if backend == "torch":
        import torch

        model.train()
        with torch.no_grad():
            y = model(torch.tensor(x)).numpy()
    else:
        y = np.asarray(model(x, training=True))
    return y, be.get_params(model)


def _bn_input(spec, params, x):
    """What the BatchNorm node receives (the conv output when there is one)."""
    return forward(spec, params, x, return_all=True)[spec.node_map["bn"].inputs[0]]


@pytest.mark.parametrize("key", sorted(BN_INPUTS))
def test_batchnorm_training_output_and_running_stats(key):
    spec = _bn_spec(key)
    params = _bn_params(spec)
    x = np.random.default_rng(1).normal(loc=0.7, scale=1.9, size=(4, *spec.input_shape))
    layer = spec.node_map["bn"].layer
    bn_p = {k: params[f"bn.{k}"] for k in spec.node_map["bn"].params}
    xin = _bn_input(spec, params, x)

    # NumPy, written out here rather than through the layer, so the layer's own code is checked too
    axes = tuple(range(xin.ndim - 1))
    n = int(np.prod(xin.shape[:-1]))
    mean, var = xin.mean(axis=axes), xin.var(axis=axes)
    y_np = (xin - mean) / np.sqrt(var + 1e-5) * bn_p["weight"] + bn_p["bias"]
    rm_np = 0.7 * bn_p["running_mean"] + 0.3 * mean
    rv_np = 0.7 * bn_p["running_var"] + 0.3 * xin.var(axis=axes, ddof=1)
    assert n > 1 and not np.allclose(var, xin.var(axis=axes, ddof=1))  # biased vs unbiased differ here

    assert_close(layer.forward(bn_p, [xin], training=True), y_np, "float64", "layer.forward(training) vs numpy")
    upd = layer.updated_running(bn_p, xin)
    assert_close(upd["running_mean"], rm_np, "float64", "layer running_mean")
    assert_close(upd["running_var"], rv_np, "float64", "layer running_var")

    for backend in ("torch", "keras"):
        y, after = _train_forward(backend, spec, params, x)
        assert_close(y, y_np, "float64", f"{backend}: training output")
        assert_close(after["bn.running_mean"], rm_np, "float64", f"{backend}: running_mean")
        assert_close(after["bn.running_var"], rv_np, "float64", f"{backend}: running_var")
        # a forward pass never changes the affine params
        np.testing.assert_array_equal(after["bn.weight"], params["bn.weight"])
        np.testing.assert_array_equal(after["bn.bias"], params["bn.bias"])


@pytest.mark.parametrize("key", ["features", "image", "image_channels_first"])
def test_frozen_batchnorm_uses_running_stats_in_training(key):
    spec = _bn_spec(key, trainable=False)
    params = _bn_params(spec, seed=3)
    x = np.random.default_rng(2).normal(loc=-0.4, scale=1.5, size=(4, *spec.input_shape))
    xin = _bn_input(spec, params, x)
    y_eval = ((xin - params["bn.running_mean"]) / np.sqrt(params["bn.running_var"] + 1e-5)
              * params["bn.weight"] + params["bn.bias"])
    assert_close(forward(spec, params, x), y_eval, "float64", "numpy eval formula")
    for backend in ("torch", "keras"):
        y, after = _train_forward(backend, spec, params, x)
        assert_close(y, y_eval, "float64", f"{backend}: frozen training output")
        for k in ("weight", "bias", "running_mean", "running_var"):
            np.testing.assert_array_equal(after[f"bn.{k}"], params[f"bn.{k}"], err_msg=f"{backend}: bn.{k}")


def test_frozen_batchnorm_params_not_trainable():
    from xnn.backends import get

    spec = _bn_spec("image_channels_first", trainable=False)
    tm = get("torch").build(spec, dtype="float64")
    names = {n for n, p in tm.named_parameters() if p.requires_grad}
    assert names == {"layers.conv.weight", "layers.conv.bias"}
    km = get("keras").build(spec, dtype="float64")
    assert [v.path for v in km.get_layer("bn").trainable_variables] == []
    assert len(km.get_layer("bn").weights) == 4


def test_freezing_at_runtime_switches_both_backends_to_running_stats():
    """Freezing a built model the native way (torch requires_grad, Keras trainable) is frozen BN."""
    from xnn.backends import get

    spec = _bn_spec("signal")
    params = _bn_params(spec, seed=4)
    x = np.random.default_rng(3).normal(size=(4, *spec.input_shape))
    y_eval = forward(spec, params, x)

    import torch

    tm = get("torch").build(spec, params, dtype="float64")
    tm.layers["bn"].requires_grad_(False)
    tm.train()
    with torch.no_grad():
        assert_close(tm(torch.tensor(x)).numpy(), y_eval, "float64", "torch frozen at runtime")
    km = get("keras").build(spec, params, dtype="float64")
    km.get_layer("bn").trainable = False
    assert_close(np.asarray(km(x, training=True)), y_eval, "float64", "keras frozen at runtime")
    for be, m in (("torch", tm), ("keras", km)):
        np.testing.assert_array_equal(get(be).get_params(m)["bn.running_var"], params["bn.running_var"])


# ------------------------------------------------------------------------------- Dropout
def _dropout_spec(rate):
    return from_dict({"input": {"shape": [40, 25]}, "model": [{"type": "Dropout", "name": "drop", "rate": rate}],
                      "train": {"dtype": "float64", "loss": "mse", "metrics": []}})


@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_dropout_training_statistics_and_scale(backend, rate):
    from xnn.backends import get

    spec = _dropout_spec(rate)
    # values bounded away from 0 so a zero can only come from a dropped element
    x = np.random.default_rng(7).uniform(0.5, 2.0, size=(32, *spec.input_shape))
    be = get(backend)
    model = be.build(spec, dtype="float64")

    np.testing.assert_array_equal(be.predict(model, x), x, err_msg="evaluation must be the identity")

    y, _ = _train_forward(backend, spec, {}, x)

    dropped = y == 0.0
    n = x.size
    frac = dropped.mean()
    # 6 standard deviations of a Binomial(n, rate) fraction: a false alarm is ~1e-9 likely
    bound = 6.0 * np.sqrt(rate * (1 - rate) / n)
    assert abs(frac - rate) <= bound, f"zero fraction {frac:.4f} vs rate {rate} (bound {bound:.4f})"
    kept = ~dropped
    np.testing.assert_allclose(y[kept] / x[kept], 1.0 / (1.0 - rate), rtol=1e-15, atol=0,
                               err_msg="survivors must be scaled by 1/(1-rate)")


def test_dropout_masks_differ_between_calls():
    """Training mode draws a new mask per call (the layer is not a fixed mask)."""
    import torch

    from xnn.backends import get

    spec = _dropout_spec(0.5)
    x = np.ones((4, *spec.input_shape))
    tm = get("torch").build(spec, dtype="float64")
    tm.train()
    with torch.no_grad():
        assert not np.array_equal(tm(torch.tensor(x)).numpy(), tm(torch.tensor(x)).numpy())
    km = get("keras").build(spec, dtype="float64")
    assert not np.array_equal(np.asarray(km(x, training=True)), np.asarray(km(x, training=True)))
