"""The seeded image sources ``synthetic_images`` and ``synthetic_segmentation`` (xnn/data/images.py):
determinism, shapes and dtypes, balance, option errors, speed, and the data pipeline around them."""
from __future__ import annotations

import time

import numpy as np
import pytest

import xnn
import xnn.data as xd
from xnn.data.images import SHAPES, default_geometry, shape_masks, synthetic_images, synthetic_segmentation
from xnn.errors import DataError
from xnn.spec.datacheck import check_data


def _seg_spec(shape=(16, 16, 3), k=4, data=None, train=None):
    return xnn.load_spec({
        "input": {"shape": list(shape)},
        "model": [{"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same"}, "relu",
                  {"type": "Conv2D", "filters": k, "kernel_size": 1}],
        "train": {"loss": "cross_entropy", "metrics": ["accuracy", "mean_iou"], **(train or {})},
        "data": {"source": "synthetic_segmentation", "options": {"n_samples": 60}, **(data or {})}})


def _cls_spec(shape=(16, 16, 1), k=5, data=None):
    return xnn.load_spec({"input": {"shape": list(shape)}, "model": [{"type": "Flatten"}, {"type": "Dense", "units": k}],
                          "data": {"source": "synthetic_images", "options": {"n_samples": 200}, **(data or {})}})


@pytest.mark.parametrize("fn", [synthetic_images, synthetic_segmentation])
def test_deterministic_from_the_seed(fn):
    a = fn({"n_samples": 40, "size": 16}, 0, 5, 3)
    b = fn({"n_samples": 40, "size": 16}, 0, 5, 3)
    c = fn({"n_samples": 40, "size": 16}, 0, 5, 4)
    d = fn({"n_samples": 40, "size": 16, "seed": 4}, 0, 5, 3)  # options.seed beats train.seed
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.x, c.x)
    np.testing.assert_array_equal(c.x, d.x)
    np.testing.assert_array_equal(c.y, d.y)


def test_classification_shapes_dtypes_and_balance():
    r = synthetic_images({"n_samples": 600, "size": 20, "channels": 1, "classes": 8}, 0, 8, 0)
    assert r.x.shape == (600, 20, 20, 1) and r.x.dtype == np.float64
    assert r.y.shape == (600,) and r.y.dtype == np.int64
    assert np.all(np.isfinite(r.x))
    np.testing.assert_array_equal(np.bincount(r.y, minlength=8), [75] * 8)
    assert r.classes == list(SHAPES)
    # shuffled, not in class order; noise: no two images equal, no constant image
    assert not np.array_equal(r.y[:8], np.arange(8))
    assert r.x.reshape(600, -1).std(axis=1).min() > 0.05


def test_segmentation_shapes_dtypes_and_labels():
    r = synthetic_segmentation({"n_samples": 300, "size": 24, "classes": 5, "shapes": 4}, 0, 6, 0)
    assert r.x.shape == (300, 24, 24, 3) and r.x.dtype == np.float64
    assert r.y.shape == (300, 24, 24) and r.y.dtype == np.int64
    assert r.y.min() == 0 and r.y.max() == 5
    assert r.classes == ["background", *SHAPES[:5]]
    # every image shows at least one shape; every class occurs; background is the majority
    assert (r.y.reshape(300, -1) > 0).any(axis=1).all()
    frac = np.bincount(r.y.ravel(), minlength=6) / r.y.size
    assert 0.5 < frac[0] < 0.97 and frac[1:].min() > 0.01


def test_segmentation_labels_mark_where_the_shapes_are():
    # with no noise a shape pixel has its shape's colour, which differs from the background level
    # by at least 0.3 in every channel; background pixels all hold the image's background level
    r = synthetic_segmentation({"n_samples": 30, "size": 16, "noise": 0.0}, 0, 5, 1)
    for x, y in zip(r.x, r.y):
        bg = x[y == 0]
        assert np.ptp(bg, axis=0).max() < 1e-12
        for k in np.unique(y[y > 0]):
            assert np.abs(x[y == k] - bg[0]).min() >= 0.3 - 1e-12


def test_shape_masks_are_distinct_and_inside():
    n = len(SHAPES)
    kind = np.arange(n)
    m = shape_masks(kind, np.full(n, 10.0), np.full(n, 10.0), np.full(n, 6.0), 21)
    assert m.shape == (n, 21, 21)
    area = m.reshape(n, -1).sum(1)
    assert area.min() >= 30 and m[:, 0, :].sum() == 0 and m[:, :, 0].sum() == 0
    for i in range(n):
        for j in range(i + 1, n):
            assert (m[i] != m[j]).sum() >= 8, (SHAPES[i], SHAPES[j])


def test_defaults_follow_the_input_shape():
    assert default_geometry(32 * 32 * 3) == (32, 3)
    assert default_geometry(16 * 16 * 1) == (16, 1)
    assert default_geometry(8 * 8 * 1) == (8, 1)
    assert default_geometry(6 * 6 * 3) == (32, 3)  # below MIN_SIZE
    assert default_geometry(7) == (32, 3)
    r = synthetic_images({"n_samples": 6}, 24 * 24 * 1, 10, 0)
    assert r.x.shape == (6, 24, 24, 1) and r.y.max() < 8  # classes: min(outputs, 8)
    s = synthetic_segmentation({"n_samples": 6}, 12 * 12 * 3, 4, 0)
    assert s.x.shape == (6, 12, 12, 3) and s.y.max() <= 3  # classes: outputs - 1 (background)


def test_generation_is_fast():
    t0 = time.perf_counter()
    r = synthetic_images({"n_samples": 3000, "size": 32, "channels": 3}, 0, 6, 0)
    s = synthetic_segmentation({"n_samples": 3000, "size": 32, "channels": 3}, 0, 7, 0)
    dt = time.perf_counter() - t0
    assert r.x.shape == s.x.shape == (3000, 32, 32, 3)
    assert dt < 6.0, f"3000 + 3000 images took {dt:.2f} s"  # about 1.3 s on 2 shared cores


@pytest.mark.parametrize("fn,opts,msg", [
    (synthetic_images, {"classes": 9}, "data.options.classes: must be an integer in 2..8 (received 9)"),
    (synthetic_images, {"classes": 1}, "data.options.classes: must be an integer in 2..8"),
    (synthetic_images, {"size": 4}, "data.options.size: must be an integer >= 8 (received 4)"),
    (synthetic_images, {"channels": 0}, "data.options.channels: must be an integer >= 1"),
    (synthetic_images, {"n_samples": 2.5}, "data.options.n_samples: must be an integer >= 1"),
    (synthetic_images, {"noise": -1}, "data.options.noise: must be a finite number >= 0"),
    (synthetic_images, {"noise": float("nan")}, "data.options.noise: must be a finite number >= 0"),
    (synthetic_images, {"size": True}, "data.options.size: must be an integer"),
    (synthetic_images, {"shapes": 2}, "data.options.shapes: unknown option for source 'synthetic_images'"),
    (synthetic_segmentation, {"shapes": 0}, "data.options.shapes: must be an integer in 1..16 (received 0)"),
    (synthetic_segmentation, {"clases": 3}, "did you mean 'classes'"),
    (synthetic_segmentation, {"n_samples": 10**9}, "over the limit"),
])
def test_bad_options_name_the_field(fn, opts, msg):
    with pytest.raises(DataError) as e:
        fn(opts, 0, 5, 0)
    assert msg in str(e.value)
    assert "\n" not in str(e.value)


def test_validate_checks_the_same_options():
    assert check_data("synthetic_images", {"classes": 8, "size": 64, "channels": 1}) == []
    assert check_data("synthetic_images", {"classes": 9}) == ["data.options.classes: must be an integer in 2..8 (received 9)"]
    assert check_data("synthetic_segmentation", {"shapes": 17})[0].startswith("data.options.shapes: must be")
    assert check_data("synthetic_segmentation", {"classes": "x"})[0].startswith("data.options.classes: must be")


# ------------------------------------------------------------------ through xnn.data.load
def test_load_classification_splits_standardizes_and_hashes():
    spec = _cls_spec(data={"x": "standardize"})
    ds = xd.load(spec)
    x, y = ds.train
    assert x.shape[1:] == (16, 16, 1) and x.dtype == np.float32 and y.dtype == np.int64
    assert len(ds.train[0]) + len(ds.val[0]) + len(ds.test[0]) == 200
    assert abs(float(x.mean())) < 1e-5 and abs(float(x.std()) - 1) < 1e-4  # fitted on the training split
    # stratified: each split holds the 5 classes in equal numbers
    np.testing.assert_array_equal(np.bincount(ds.test[1]), [8] * 5)
    assert ds.n_classes == 5 and ds.classes == list(SHAPES[:5])
    assert xd.load(spec).data_hash == ds.data_hash
    assert xd.load(spec.with_overrides({"train.seed": 1})).data_hash != ds.data_hash


def test_load_segmentation_labels_and_onehot():
    spec = _seg_spec(data={"x": "standardize"})
    ds = xd.load(spec)
    x, y = ds.train
    assert x.shape[1:] == (16, 16, 3) and y.shape[1:] == (16, 16) and y.dtype == np.int64
    assert ds.n_classes == 4 and 0 <= y.min() and y.max() <= 3
    oh = xd.load(_seg_spec(data={"y": "onehot"}))
    yo = oh.train[1]
    assert yo.shape[1:] == (16, 16, 4) and yo.dtype == np.float32
    np.testing.assert_array_equal(yo.argmax(-1), xd.load(_seg_spec()).train[1])
    np.testing.assert_array_equal(yo.sum(-1), 1)
    # batches carry the per-pixel labels with their images
    xb, yb = next(xd.batches(x, y, 8, seed=0, epoch=0))
    assert xb.shape == (8, 16, 16, 3) and yb.shape == (8, 16, 16)


def test_load_refuses_mismatches_clearly():
    with pytest.raises(DataError, match=r"samples have shape \[32, 32, 3\].*input.shape \[16, 16, 3\]"):
        xd.load(_seg_spec(data={"options": {"n_samples": 10, "size": 32}}))
    with pytest.raises(DataError, match=r"label 4 out of range 0..3 \(the model has 4 outputs\)"):
        xd.load(_seg_spec(data={"options": {"n_samples": 40, "classes": 4}}))
    with pytest.raises(DataError, match="data.augment: flips and shifts move the inputs only"):
        xd.load(_seg_spec(data={"augment": {"flip": "horizontal"}}))
    # a classification source keeps its augmentation
    assert xd.load(_cls_spec(data={"augment": {"flip": "horizontal", "shift": 2}})).augment["shift"] == 2


def test_segmentation_spec_validates():
    spec = _seg_spec()
    assert tuple(spec.output.out_shape) == (16, 16, 4)
    with pytest.raises(xnn.SpecError, match="early_stopping.monitor: val_mean_iou needs 'mean_iou' in train.metrics"):
        _seg_spec(train={"metrics": ["accuracy"], "early_stopping": {"monitor": "val_mean_iou"}})
    assert _seg_spec(train={"early_stopping": {"monitor": "val_mean_iou"}}).train.early_stopping.monitor == "val_mean_iou"


def test_every_builtin_source_is_documented():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "data.md").read_text()
    missing = [s for s in xd.BUILTIN if f"| `{s}` |" not in text]
    assert not missing, f"docs/data.md lacks a row for: {missing}"
