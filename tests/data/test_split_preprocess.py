import numpy as np
import pytest

import xnn.data as xd
from xnn.errors import DataError, SpecError

from .conftest import make_spec


def test_split_is_stratified_and_deterministic():
    labels = np.repeat(np.arange(4), [100, 50, 30, 20])
    a = xd.split_indices(len(labels), 0.1, 0.2, seed=3, labels=labels)
    b = xd.split_indices(len(labels), 0.1, 0.2, seed=3, labels=labels)
    c = xd.split_indices(len(labels), 0.1, 0.2, seed=4, labels=labels)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[0], c[0])
    tr, va, te = a
    # disjoint and complete
    assert len(set(tr) | set(va) | set(te)) == len(labels) == len(tr) + len(va) + len(te)
    # every class is split in the same proportions (rounded per class)
    for k, n in enumerate([100, 50, 30, 20]):
        assert np.sum(labels[te] == k) == round(0.2 * n)
        assert np.sum(labels[va] == k) == round(0.1 * n)


def test_split_unstratified_sizes_and_seed():
    tr, va, te = xd.split_indices(10, 0.2, 0.3, seed=0)
    assert (len(tr), len(va), len(te)) == (5, 2, 3)


def test_split_fractions_too_large():
    with pytest.raises(DataError, match="val \\+ test"):
        xd.split_indices(10, 0.5, 0.5, seed=0)


def test_load_is_deterministic_and_split_seed_defaults_to_train_seed():
    s1 = make_spec(data={"x": "standardize"}, train={"seed": 1})
    s2 = make_spec(data={"x": "standardize", "split": {"seed": 1}}, train={"seed": 7})
    s3 = make_spec(data={"x": "standardize"}, train={"seed": 2})
    d1, d1b, d2, d3 = xd.load(s1), xd.load(s1), xd.load(s2), xd.load(s3)
    assert d1.data_hash == d1b.data_hash
    np.testing.assert_array_equal(d1.train[0], d2.train[0])
    assert d1.data_hash != d3.data_hash
    assert d1.train[0].dtype == np.float32 and d1.train[1].dtype == np.int64
    assert d1.train[0].shape[1:] == (64,)
    assert d1.n_classes == 10
    assert len(d1.train[0]) + len(d1.val[0]) + len(d1.test[0]) == 1797


def test_preprocessing_is_fitted_on_train_only():
    spec = make_spec(data={"x": "standardize"})
    ds = xd.load(spec)
    # recompute from the raw digits and the same split
    raw = xd.read_source(spec)
    x = raw.x.astype(np.float64)
    tr, va, te = xd.split_indices(len(x), 0.1, 0.2, 0, raw.y)
    mean, std = x[tr].mean(0), x[tr].std(0)
    std[std == 0] = 1
    np.testing.assert_allclose(ds.preprocess.x_shift, mean)
    np.testing.assert_allclose(ds.train[0], ((x[tr] - mean) / std).astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(ds.test[0], ((x[te] - mean) / std).astype(np.float32), rtol=1e-6, atol=1e-6)
    # statistics over all data differ from the training ones: proves the fit used train only
    assert not np.allclose(mean, x.mean(0))
    # the training split is standardized exactly; the test split only roughly
    assert np.allclose(ds.train[0].astype(np.float64).mean(0), 0, atol=1e-5)


def test_minmax_per_channel_for_images():
    spec = make_spec(shape=(8, 8, 1), data={"x": "minmax"})
    ds = xd.load(spec)
    assert ds.preprocess.x_shift.shape == (1,)
    assert ds.train[0].min() == 0 and ds.train[0].max() == 1
    assert ds.train[0].shape[1:] == (8, 8, 1)


def test_preprocess_roundtrips_through_dict():
    spec = make_spec(units=1, loss="mse", data={"source": "synthetic_regression", "x": "standardize", "y": "standardize"})
    ds = xd.load(spec)
    p2 = xd.Preprocess.from_dict(__import__("json").loads(__import__("json").dumps(ds.preprocess.to_dict())))
    x, y = ds.test
    np.testing.assert_allclose(p2.inverse_y(y), ds.preprocess.inverse_y(y))
    assert y.shape[1:] == (1,) and y.dtype == np.float32
    assert abs(float(ds.train[1].mean())) < 1e-5


def test_onehot_targets():
    spec = make_spec(shape=(4,), units=3, loss="mse", data={"source": "iris", "y": "onehot"})
    ds = xd.load(spec)
    y = ds.train[1]
    assert y.shape[1:] == (3,) and y.dtype == np.float32
    np.testing.assert_array_equal(y.sum(1), 1)
    assert ds.n_classes == 3


@pytest.mark.parametrize("shape", [(8, 8, 1), (64,), (8, 8)])
def test_digits_reshapes_to_the_spec(shape):
    ds = xd.load(make_spec(shape=shape))
    assert ds.train[0].shape[1:] == shape


def test_digits_wrong_element_count():
    with pytest.raises(DataError, match=r"digits: x: samples have shape \[64\].*\[7, 7, 1\]"):
        xd.load(make_spec(shape=(7, 7, 1)))


def test_synthetic_sources_are_seeded():
    spec = make_spec(shape=(5,), units=3, data={"source": "synthetic_classification", "options": {"n_samples": 90}})
    a, b = xd.load(spec), xd.load(spec)
    assert a.data_hash == b.data_hash and a.n_classes == 3
    assert len(a.train[0]) + len(a.val[0]) + len(a.test[0]) == 90
    other = xd.load(make_spec(shape=(5,), units=3, train={"seed": 5},
                              data={"source": "synthetic_classification", "options": {"n_samples": 90}}))
    assert other.data_hash != a.data_hash


def test_unknown_option_and_source():
    # xnn validate checks the data section too (SpecError at load_spec); load itself raises DataError
    with pytest.raises((DataError, SpecError), match=r"data.options.n_sample: unknown option.*did you mean 'n_samples'"):
        xd.load(make_spec(data={"options": {"n_sample": 10}}))
    with pytest.raises((DataError, SpecError), match=r"data.source: unknown source.*\(did you mean 'digits'"):
        xd.load(make_spec(data={"source": "digitz"}))


def test_label_out_of_range():
    with pytest.raises(DataError, match=r"digits: y\[5\]: label 5 out of range 0..4"):
        xd.load(make_spec(units=5))
