"""Every loss: torch vs Keras vs xnn's NumPy reference, value and gradient w.r.t. the outputs."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from xnn.spec.sections import MAE, MSE, BinaryCrossEntropy, CrossEntropy, Huber
from xnn.train.losses import cross_entropy, loss_and_grad, resolve_class_weights

RTOL = 1e-10
K = 4
CASES = [
    ("ce_int", CrossEntropy(), "int", None),
    ("ce_onehot", CrossEntropy(), "onehot", None),
    ("ce_smooth_int", CrossEntropy(label_smoothing=0.2), "int", None),
    ("ce_weights_int", CrossEntropy(), "int", [0.5, 2.0, 1.0, 3.0]),
    ("ce_weights_smooth_int", CrossEntropy(label_smoothing=0.1), "int", [0.5, 2.0, 1.0, 3.0]),
    ("ce_weights_smooth_onehot", CrossEntropy(label_smoothing=0.1), "onehot", [0.5, 2.0, 1.0, 3.0]),
    ("ce_int_sequence", CrossEntropy(label_smoothing=0.05), "int_seq", None),
    ("bce", BinaryCrossEntropy(), "binary", None),
    ("mse", MSE(), "float", None),
    ("mae", MAE(), "float", None),
    ("huber", Huber(delta=0.5), "float", None),
]


def _data(kind):
    rng = np.random.default_rng(1)
    z = rng.normal(size=(6, 3, K) if kind == "int_seq" else (6, K)) * 2
    if kind in ("int", "int_seq"):
        y = rng.integers(0, K, size=z.shape[:-1])
    elif kind == "onehot":
        y = np.eye(K)[rng.integers(0, K, 6)]
    elif kind == "binary":
        y = (rng.uniform(size=z.shape) > 0.5).astype(np.float64)
    else:
        y = rng.normal(size=z.shape)
    return z, y


def _torch(loss, z, y, cw):
    from xnn.backends.torch.train import torch_loss

    zt = torch.tensor(z, requires_grad=True)
    yt = torch.tensor(y)
    l = torch_loss(loss, zt, yt, None if cw is None else torch.tensor(cw, dtype=torch.float64))
    l.backward()
    return float(l.detach()), zt.grad.numpy()


def _keras(loss, z, y, cw):
    import tensorflow as tf

    from xnn.backends.keras.train import tf_loss

    zt = tf.constant(z)
    with tf.GradientTape() as tape:
        tape.watch(zt)
        l = tf_loss(loss, zt, tf.constant(y), None if cw is None else np.asarray(cw))
    return float(l), tape.gradient(l, zt).numpy()


@pytest.mark.parametrize("name,loss,kind,cw", CASES, ids=[c[0] for c in CASES])
def test_loss_value_and_gradient(name, loss, kind, cw):
    z, y = _data(kind)
    ref, gref = loss_and_grad(loss, z, y, None if cw is None else np.asarray(cw))
    # the NumPy analytic gradient itself against central differences
    h, fd = 1e-6, np.zeros_like(z)
    for i in np.ndindex(z.shape):
        if loss.type == "mae" and abs(z[i] - y[i]) < 1e-4:
            continue
        zp, zm = z.copy(), z.copy()
        zp[i] += h
        zm[i] -= h
        fd[i] = (loss_and_grad(loss, zp, y, cw)[0] - loss_and_grad(loss, zm, y, cw)[0]) / (2 * h)
    np.testing.assert_allclose(gref, fd, rtol=1e-5, atol=1e-8)
    for be, fn in (("torch", _torch), ("keras", _keras)):
        v, g = fn(loss, z, y, cw)
        assert abs(v - ref) <= RTOL * abs(ref), f"{be} {name}: {v} vs {ref}"
        np.testing.assert_allclose(g, gref, rtol=RTOL, atol=RTOL * np.abs(gref).max(), err_msg=f"{be} {name} grad")


def test_cross_entropy_weighted_mean_is_pytorch_definition():
    # Σ w_y l / Σ w_y (not / N): with weights (1, 3) and labels (0, 1) the second sample counts 3x
    z = np.array([[2.0, 0.0], [0.0, 1.0]])
    l0 = -np.log(np.exp(2) / (np.exp(2) + 1))
    l1 = -np.log(np.exp(1) / (np.exp(1) + 1))
    v, _ = cross_entropy(z, np.array([0, 1]), class_weights=np.array([1.0, 3.0]))
    assert v == pytest.approx((l0 + 3 * l1) / 4, rel=1e-14)


def test_balanced_class_weights():
    from xnn.spec.sections import TrainSpec

    t = TrainSpec(class_weights="balanced")
    w = resolve_class_weights(t, np.array([0, 0, 0, 1]), 3)
    np.testing.assert_allclose(w, [4 / 9, 4 / 3, 1.0])
