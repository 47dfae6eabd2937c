import numpy as np
import pytest

import xnn.data as xd
from xnn.errors import DataError


def _collect(**kw):
    x = np.arange(23 * 4 * 4 * 1, dtype=np.float32).reshape(23, 4, 4, 1)
    y = np.arange(23)
    return list(xd.batches(x, y, **kw))


def test_batches_deterministic_and_cover_the_epoch():
    a = _collect(batch_size=5, seed=1, epoch=2)
    b = _collect(batch_size=5, seed=1, epoch=2)
    assert [len(yb) for _, yb in a] == [5, 5, 5, 5, 3]
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    ys = np.concatenate([yb for _, yb in a])
    assert sorted(ys.tolist()) == list(range(23))
    np.testing.assert_array_equal(ys, np.random.default_rng([1, 2]).permutation(23))


def test_epochs_and_seeds_differ_and_no_shuffle_keeps_order():
    e2 = np.concatenate([yb for _, yb in _collect(batch_size=5, seed=1, epoch=2)])
    e3 = np.concatenate([yb for _, yb in _collect(batch_size=5, seed=1, epoch=3)])
    s2 = np.concatenate([yb for _, yb in _collect(batch_size=5, seed=2, epoch=2)])
    assert not np.array_equal(e2, e3) and not np.array_equal(e2, s2)
    plain = np.concatenate([yb for _, yb in _collect(batch_size=5, seed=1, epoch=2, shuffle=False)])
    np.testing.assert_array_equal(plain, np.arange(23))


def test_augment_deterministic_and_only_flips_and_shifts():
    aug = {"flip": "horizontal", "shift": 1}
    a = _collect(batch_size=8, seed=0, epoch=0, augment=aug)
    b = _collect(batch_size=8, seed=0, epoch=0, augment=aug)
    for (xa, _), (xb, _) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
    plain = _collect(batch_size=8, seed=0, epoch=0)
    changed = 0
    for (xa, ya), (xp, yp) in zip(a, plain):
        np.testing.assert_array_equal(ya, yp)  # augmentation never changes order or labels
        changed += int(not np.array_equal(xa, xp))
        for i in range(len(xa)):
            # each augmented image is some flip+shift of the original (zero fill)
            ok = False
            for f in (xp[i], xp[i][:, ::-1]):
                for dy in (-1, 0, 1):
                    for dx in (-1, 0, 1):
                        cand = np.zeros_like(f)
                        H, W = f.shape[:2]
                        cand[max(dy, 0):H + min(dy, 0), max(dx, 0):W + min(dx, 0)] = \
                            f[max(-dy, 0):H - max(dy, 0), max(-dx, 0):W - max(dx, 0)]
                        ok |= np.array_equal(cand, xa[i])
            assert ok
    assert changed > 0


def test_augment_flip_both_and_vertical():
    x = np.arange(200 * 3 * 3, dtype=np.float64).reshape(200, 3, 3, 1)
    out = xd.augment_batch(x, np.random.default_rng(0), "vertical", 0)
    flipped = np.array([np.array_equal(o, xi[::-1]) for o, xi in zip(out, x)])
    same = np.array([np.array_equal(o, xi) for o, xi in zip(out, x)])
    assert np.all(flipped ^ same) and 50 < flipped.sum() < 150
    out = xd.augment_batch(x, np.random.default_rng(0), "both", 0)
    assert any(np.array_equal(o, xi[::-1, ::-1]) for o, xi in zip(out, x))
    np.testing.assert_array_equal(x, np.arange(200 * 3 * 3, dtype=np.float64).reshape(200, 3, 3, 1))  # input untouched


def test_augment_refuses_vectors():
    with pytest.raises(DataError, match="image"):
        xd.augment_batch(np.zeros((2, 5)), np.random.default_rng(0), "horizontal", 0)


def test_load_refuses_augment_on_vectors():
    from .conftest import make_spec

    with pytest.raises(DataError, match="data.augment"):
        xd.load(make_spec(data={"augment": {"flip": "horizontal"}}))
