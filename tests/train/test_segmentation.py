"""Per-pixel cross-entropy and the pixel metrics: outputs ``(N, H, W, K)`` channels-last against
labels ``(N, H, W)``. The NumPy reference against the direct formula and central differences;
torch and Keras against the reference in float64; a fully-convolutional net trained on both
backends step for step; small models learning the synthetic image sources."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import xnn
import xnn.data
from xnn.init import init_params
from xnn.reference import forward
from xnn.spec.sections import CrossEntropy
from xnn.train.losses import confusion, cross_entropy, evaluate_outputs, mean_iou, metric

from .helpers import RTOL_TRAJ, make_trainer

RTOL = 1e-12
K = 5
W = np.array([0.5, 2.0, 1.0, 3.0, 0.25])


def _pixels(seed=0, shape=(3, 4, 5)):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(*shape, K)) * 2, rng.integers(0, K, size=shape)


def _direct(z, y, eps=0.0, w=None):
    """Σ_pixels Σ_c w_c ỹ_c (−log p_c) / Σ_pixels w_label, one pixel at a time."""
    w = np.ones(K) if w is None else w
    num = den = 0.0
    for idx in np.ndindex(y.shape):
        logits = z[idx]
        logp = logits - logits.max() - np.log(np.exp(logits - logits.max()).sum())
        t = np.eye(K)[y[idx]]
        num += float(-(w * (t * (1 - eps) + eps / K) * logp).sum())
        den += float(w[y[idx]])
    return num / den


@pytest.mark.parametrize("eps,w", [(0.0, None), (0.1, None), (0.0, W), (0.2, W)])
def test_numpy_per_pixel_cross_entropy_is_the_mean_over_pixels(eps, w):
    z, y = _pixels()
    v, g = cross_entropy(z, y, eps, w)
    assert v == pytest.approx(_direct(z, y, eps, w), rel=1e-13)
    assert g.shape == z.shape
    # the same as the flat (pixels, K) problem, and as one-hot targets (N, H, W, K)
    vf, gf = cross_entropy(z.reshape(-1, K), y.reshape(-1), eps, w)
    vo, go = cross_entropy(z, np.eye(K)[y], eps, w)
    assert vf == pytest.approx(v, rel=1e-14) and vo == pytest.approx(v, rel=1e-14)
    np.testing.assert_allclose(gf.reshape(z.shape), g, rtol=1e-13, atol=1e-16)
    np.testing.assert_allclose(go, g, rtol=1e-13, atol=1e-16)
    # the analytic gradient against central differences
    zs, ys = z[:1, :2, :2], y[:1, :2, :2]
    _, gs = cross_entropy(zs, ys, eps, w)
    fd, h = np.zeros_like(zs), 1e-6
    for i in np.ndindex(zs.shape):
        zp, zm = zs.copy(), zs.copy()
        zp[i] += h
        zm[i] -= h
        fd[i] = (cross_entropy(zp, ys, eps, w)[0] - cross_entropy(zm, ys, eps, w)[0]) / (2 * h)
    np.testing.assert_allclose(gs, fd, rtol=1e-6, atol=1e-9)


def test_numpy_cross_entropy_refuses_mismatched_labels():
    z, y = _pixels()
    with pytest.raises(ValueError, match=r"integer labels shaped \[3, 20\] do not match outputs \[3, 4, 5, 5\]"):
        cross_entropy(z, y.reshape(3, 20))
    with pytest.raises(ValueError, match="class_weights has shape"):
        cross_entropy(z, y, class_weights=np.ones(K + 1))


def _torch(loss, z, y, cw):
    from xnn.backends.torch.train import torch_loss

    zt = torch.tensor(z, requires_grad=True)
    l = torch_loss(loss, zt, torch.tensor(y), None if cw is None else torch.tensor(cw, dtype=torch.float64))
    l.backward()
    return float(l.detach()), zt.grad.numpy()


def _keras(loss, z, y, cw):
    import tensorflow as tf

    from xnn.backends.keras.train import tf_loss

    zt = tf.constant(z)
    with tf.GradientTape() as tape:
        tape.watch(zt)
        l = tf_loss(loss, zt, tf.constant(y), cw)
    return float(l), tape.gradient(l, zt).numpy()


@pytest.mark.parametrize("eps,w,onehot", [(0.0, None, False), (0.1, None, False), (0.0, W, False),
                                          (0.2, W, False), (0.1, W, True)])
def test_backend_losses_equal_the_reference_per_pixel(eps, w, onehot):
    z, y = _pixels(1)
    y = np.eye(K)[y] if onehot else y
    loss = CrossEntropy(label_smoothing=eps)
    ref, gref = cross_entropy(z, y, eps, w)
    for be, fn in (("torch", _torch), ("keras", _keras)):
        v, g = fn(loss, z, y, w)
        assert abs(v - ref) <= RTOL * abs(ref), f"{be}: {v} vs {ref}"
        np.testing.assert_allclose(g, gref, rtol=0, atol=RTOL * np.abs(gref).max(), err_msg=f"{be} gradient")


def test_pixel_accuracy_and_mean_iou():
    lab = np.array([[0, 0, 1, 1, 2]])  # (N=1, L=5), K=4: class 3 never occurs
    pred = np.array([[0, 1, 1, 1, 0]])
    z = np.eye(4)[pred] * 3.0  # logits (1, 5, 4) whose argmax is pred
    assert metric("accuracy", z, lab, "cross_entropy") == pytest.approx(3 / 5)
    # IoU: class 0 1/(1+1+1), class 1 2/(2+1+0), class 2 0/(0+0+1); class 3 absent: not counted
    assert metric("mean_iou", z, lab, "cross_entropy") == pytest.approx((1 / 3 + 2 / 3 + 0) / 3)
    np.testing.assert_array_equal(confusion(pred, lab, 4), [[1, 1, 0, 0], [0, 2, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]])
    assert mean_iou(lab, lab, 4) == 1.0
    # one-hot targets give the same numbers; so do pixels in (N, H, W)
    assert metric("mean_iou", z, np.eye(4)[lab], "cross_entropy") == pytest.approx(1 / 3)
    assert metric("mean_iou", z.reshape(1, 1, 5, 4), lab.reshape(1, 1, 5), "cross_entropy") == pytest.approx(1 / 3)
    # binary_cross_entropy: two classes, (z > 0) vs (y > 0.5) elementwise
    zb = np.array([[1.0], [-1.0], [2.0], [-3.0]])
    yb = np.array([[1.0], [1.0], [0.0], [0.0]])
    # class 1: TP 1, FP 1, FN 1 -> 1/3; class 0: TP 1, FP 1, FN 1 -> 1/3
    assert metric("mean_iou", zb, yb, "binary_cross_entropy") == pytest.approx(1 / 3)
    z2, y2 = _pixels(2)
    t = xnn.load_spec({"input": {"shape": [4, 5, 3]}, "model": [{"type": "Conv2D", "filters": K, "kernel_size": 1}],
                       "train": {"metrics": ["accuracy", "mean_iou"]}}).train
    out = evaluate_outputs(t, z2, y2)
    assert set(out) == {"loss", "accuracy", "mean_iou"}
    assert out["accuracy"] == pytest.approx(float((z2.argmax(-1) == y2).mean()))


# ------------------------------------------------------------------ a fully-convolutional net
def _fcn(train: dict | None = None, k: int = 4, shape=(8, 8, 3), data: dict | None = None):
    return xnn.load_spec({
        "input": {"shape": list(shape)}, **({"data": data} if data else {}),
        "model": [{"type": "Conv2D", "name": "c1", "filters": 6, "kernel_size": 3, "padding": "same"},
                  {"type": "relu", "name": "r1"},
                  {"type": "Conv2D", "name": "c2", "filters": 6, "kernel_size": 3, "dilation": 2, "padding": "same"},
                  {"type": "relu", "name": "r2"},
                  {"type": "Concatenate", "name": "skip", "inputs": ["r1", "r2"]},
                  {"type": "Conv2D", "name": "logits", "filters": k, "kernel_size": 1}],
        "train": {"dtype": "float64", "metrics": ["accuracy", "mean_iou"], **(train or {})}})


def test_fcn_trains_identically_on_torch_and_keras():
    spec = _fcn({"loss": {"type": "cross_entropy", "label_smoothing": 0.1},
                 "optimizer": {"type": "adam", "lr": 0.01}, "class_weights": [1.0, 2.0, 0.5, 3.0]})
    assert tuple(spec.output.out_shape) == (8, 8, 4)
    cw = np.array([1.0, 2.0, 0.5, 3.0])
    p0 = init_params(spec)
    rng = np.random.default_rng(7)
    batches = [(rng.normal(size=(4, 8, 8, 3)), rng.integers(0, 4, size=(4, 8, 8))) for _ in range(6)]
    # the first step's loss is xnn's per-pixel loss of the NumPy reference forward
    ref0 = cross_entropy(forward(spec, p0, batches[0][0]), batches[0][1], 0.1, cw)[0]
    res = {}
    for b in ("torch", "keras"):
        be, model, tr = make_trainer(b, spec, p0, class_weights=cw)
        losses = [tr.train_step(x, y) for x, y in batches]
        assert abs(losses[0] - ref0) <= RTOL * ref0, (b, losses[0], ref0)
        assert tr.last_output.shape == (4, 8, 8, 4)
        res[b] = (be.get_params(model), np.array(losses), tr.evaluate(*batches[0]))
    (pt, lt, et), (pk, lk, ek) = res["torch"], res["keras"]
    np.testing.assert_allclose(lk, lt, rtol=RTOL_TRAJ)
    assert lt[-1] < lt[0]
    for k in pt:
        assert np.abs(pt[k] - pk[k]).max() <= RTOL_TRAJ * np.abs(pt[k]).max(), k
        assert np.abs(pt[k] - p0[k]).max() > 0, f"{k} never moved"
    for m in et:
        assert ek[m] == pytest.approx(et[m], rel=1e-9, abs=1e-12), m


# ------------------------------------------------------------------ learning the synthetic sources
def test_small_cnn_learns_synthetic_images():
    spec = xnn.load_spec({
        "input": {"shape": [24, 24, 1]},
        "model": [{"type": "Conv2D", "filters": 12, "kernel_size": 3, "padding": "same"}, {"type": "BatchNorm"}, "relu",
                  {"type": "MaxPool2D", "pool_size": 2},
                  {"type": "Conv2D", "filters": 16, "kernel_size": 3, "padding": "same"}, {"type": "BatchNorm"}, "relu",
                  {"type": "MaxPool2D", "pool_size": 2},
                  {"type": "Flatten"}, {"type": "Dense", "units": 4}],
        "train": {"epochs": 10, "batch_size": 32, "seed": 0, "optimizer": {"type": "adam", "lr": 0.003}, "threads": 2},
        "data": {"source": "synthetic_images", "options": {"n_samples": 1500}, "x": "standardize",
                 "split": {"val": 0.1, "test": 0.25}}})
    r = xnn.fit(spec, backend="torch", progress=False)
    assert r.test["accuracy"] > 0.55, r.test  # chance is 0.25 (0.80 here)


def test_fcn_learns_synthetic_segmentation():
    model = [{"type": "Conv2D", "name": "c1", "filters": 12, "kernel_size": 3, "padding": "same"}, {"type": "BatchNorm"},
             {"type": "relu", "name": "r1"},
             {"type": "Conv2D", "filters": 12, "kernel_size": 3, "dilation": 2, "padding": "same"}, {"type": "BatchNorm"},
             "relu", {"type": "Conv2D", "filters": 12, "kernel_size": 3, "dilation": 4, "padding": "same"},
             {"type": "relu", "name": "r3"}, {"type": "Concatenate", "inputs": ["r1", "r3"]},
             {"type": "Conv2D", "filters": 3, "kernel_size": 1}]
    spec = xnn.load_spec({
        "input": {"shape": [16, 16, 1]}, "model": model,
        "train": {"epochs": 10, "batch_size": 16, "optimizer": {"type": "adam", "lr": 0.01}, "threads": 2,
                  "metrics": ["accuracy", "mean_iou"]},
        "data": {"source": "synthetic_segmentation", "options": {"n_samples": 600, "shapes": 2}, "x": "standardize"}})
    y = xnn.data.load(spec).test[1]
    background = metric("mean_iou", np.eye(3)[np.zeros_like(y)], y, "cross_entropy")  # about 0.29
    r = xnn.fit(spec, backend="keras", progress=False)
    assert r.test["mean_iou"] > background + 0.15, (r.test, background)  # 0.52 here
    assert r.test["accuracy"] > float((y == 0).mean()) + 0.03, r.test


def test_segmentation_run_evaluates_and_predicts_per_pixel(tmp_path, capsys):
    from xnn.cli import main

    spec = _fcn({"epochs": 1, "batch_size": 16, "threads": 2}, k=3, shape=(12, 12, 1),
                data={"source": "synthetic_segmentation", "options": {"n_samples": 40}, "x": "standardize"})
    run = tmp_path / "run"
    xnn.fit(spec, backend="torch", out=run, progress=False)
    from xnn.data.images import synthetic_segmentation

    raw = synthetic_segmentation({"n_samples": 4}, 12 * 12, 3, 5)
    np.savez(tmp_path / "in.npz", x=raw.x, y=raw.y)
    assert main(["evaluate", str(run), "--data", str(tmp_path / "in.npz")]) == 0
    assert "mean_iou" in capsys.readouterr().out
    for out, extra in (("p.npz", []), ("l.csv", ["--output", "labels"])):
        assert main(["predict", str(run), "--data", str(tmp_path / "in.npz"), "--out", str(tmp_path / out), *extra]) == 0
    z = np.load(tmp_path / "p.npz", allow_pickle=False)
    assert z["outputs"].shape == (4, 12, 12, 3) and z["labels"].shape == (4, 12, 12)
    np.testing.assert_array_equal(z["labels"], z["outputs"].argmax(-1))
    lines = (tmp_path / "l.csv").read_text().splitlines()
    assert lines[0].split(",") == [f"label_{i}" for i in range(144)]
    got = np.array([[int(v) for v in ln.split(",")] for ln in lines[1:]])
    np.testing.assert_array_equal(got, z["labels"].reshape(4, -1))
