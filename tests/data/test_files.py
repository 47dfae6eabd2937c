"""Every file loader: good files load; bad ones raise DataError naming the file and the field."""
import io
import zipfile

import numpy as np
import pytest
import scipy.io

import xnn.data as xd
from xnn.errors import DataError, SpecError

from .conftest import make_spec


def _xy(n=40, f=4, k=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, f)), np.arange(n) % k


def _spec(path, **data):
    return make_spec(shape=(4,), units=3, data={"source": str(path), **data})


# ------------------------------------------------------------------ npz
def test_npz_loads(tmp_path):
    x, y = _xy()
    p = tmp_path / "d.npz"
    np.savez(p, x=x, y=y)
    ds = xd.load(_spec(p))
    assert ds.source == str(p) and ds.n_classes == 3
    assert sum(len(s[0]) for s in (ds.train, ds.val, ds.test)) == 40


def test_npz_custom_keys_and_missing_key(tmp_path):
    x, y = _xy()
    p = tmp_path / "d.npz"
    np.savez(p, features=x, labels=y)
    ds = xd.load(_spec(p, options={"x_key": "features", "y_key": "labels"}))
    assert ds.train[0].shape[1:] == (4,)
    with pytest.raises(DataError, match=r"d.npz: x: no such array.*\['features', 'labels'\]"):
        xd.load(_spec(p))


def test_npz_truncated(tmp_path):
    x, y = _xy(400)
    p = tmp_path / "d.npz"
    np.savez(p, x=x, y=y)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match=r"d.npz: not a readable .npz file"):
        xd.load(_spec(p))


def test_npz_corrupt_member(tmp_path):
    x, y = _xy(400)
    buf = io.BytesIO()
    np.savez_compressed(buf, x=x, y=y)
    data = bytearray(buf.getvalue())
    # damage the compressed stream of the first member, keep the zip directory
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as z:
        off = z.getinfo("x.npy").header_offset + 30 + len("x.npy") + 50
    data[off:off + 200] = b"\0" * 200
    p = tmp_path / "d.npz"
    p.write_bytes(bytes(data))
    with pytest.raises(DataError, match=r"d.npz: x: cannot be read"):
        xd.load(_spec(p))


def test_npz_with_pickled_objects_is_refused(tmp_path):
    p = tmp_path / "d.npz"
    obj = np.empty(40, dtype=object)
    obj[:] = [{"a": i} for i in range(40)]
    np.savez(p, x=obj, y=np.arange(40) % 3)
    with pytest.raises(DataError, match=r"d.npz: x: holds Python objects"):
        xd.load(_spec(p))


def test_npz_nan(tmp_path):
    x, y = _xy()
    x[7, 2] = np.nan
    p = tmp_path / "d.npz"
    np.savez(p, x=x, y=y)
    with pytest.raises(DataError, match=r"d.npz: x: contains NaN or Inf \(first in sample 7\)"):
        xd.load(_spec(p))
    x[7, 2] = 0
    y = y.astype(float)
    y[3] = np.inf
    np.savez(p, x=x, y=y)
    with pytest.raises(DataError, match=r"d.npz: y: contains NaN or Inf"):
        xd.load(_spec(p))


def test_npz_wrong_shape_and_lengths(tmp_path):
    p = tmp_path / "d.npz"
    np.savez(p, x=np.zeros((40, 5)), y=np.arange(40) % 3)
    with pytest.raises(DataError, match=r"d.npz: x: samples have shape \[5\].*input.shape \[4\]"):
        xd.load(_spec(p))
    np.savez(p, x=np.zeros((40, 4)), y=np.arange(39) % 3)
    with pytest.raises(DataError, match=r"d.npz: y: 39 targets for 40 samples"):
        xd.load(_spec(p))
    np.savez(p, x=np.zeros((40, 4)), y=np.arange(40) % 3 + 0.5)
    with pytest.raises(DataError, match=r"y\[0\]: class labels must be whole numbers"):
        xd.load(_spec(p))


def test_npz_text_labels_are_encoded(tmp_path):
    x, _ = _xy(30)
    p = tmp_path / "d.npz"
    np.savez(p, x=x, y=np.array(["cat", "dog", "emu"] * 10))
    ds = xd.load(_spec(p))
    assert ds.classes == ["cat", "dog", "emu"] and ds.train[1].dtype == np.int64


def test_not_a_file_and_unknown_suffix(tmp_path):
    with pytest.raises(DataError, match=r"nope.npz: no such file"):
        xd.load(_spec(tmp_path / "nope.npz"))
    (tmp_path / "empty.npz").write_bytes(b"")
    with pytest.raises(DataError, match=r"empty.npz: empty file"):
        xd.load(_spec(tmp_path / "empty.npz"))
    with pytest.raises((DataError, SpecError), match=r"data.source: unknown source"):  # validate checks it now
        xd.load(_spec(tmp_path / "d.txt"))


# ------------------------------------------------------------------ csv
def _write_csv(p, header, rows):
    p.write_text(",".join(header) + "\n" + "\n".join(",".join(str(c) for c in r) for r in rows) + "\n")


def test_csv_loads_with_default_and_named_target(tmp_path):
    x, y = _xy()
    p = tmp_path / "d.csv"
    _write_csv(p, ["a", "b", "c", "d", "label"], [[*r, int(t)] for r, t in zip(x, y)])
    ds = xd.load(_spec(p))
    assert ds.train[0].shape[1:] == (4,)
    _write_csv(p, ["label", "a", "b", "c", "d"], [[int(t), *r] for r, t in zip(x, y)])
    ds2 = xd.load(_spec(p, options={"target": "label"}))
    assert ds2.data_hash == ds.data_hash


def test_csv_missing_target(tmp_path):
    p = tmp_path / "d.csv"
    _write_csv(p, ["a", "b", "c", "d", "label"], [[1, 2, 3, 4, 0]] * 10)
    with pytest.raises(DataError, match=r"d.csv: target column 'lable' not found \(did you mean 'label'\?\)"):
        xd.load(_spec(p, options={"target": "lable"}))


def test_csv_bad_cells_rows_and_header(tmp_path):
    p = tmp_path / "d.csv"
    _write_csv(p, ["a", "b", "c", "d", "label"], [[1, 2, 3, 4, 0], [1, "x?", 3, 4, 1]])
    with pytest.raises(DataError, match=r"d.csv: row 3, column 'b': not a number \(received 'x\?'\)"):
        xd.load(_spec(p))
    _write_csv(p, ["a", "b", "c", "d", "label"], [[1, 2, 3, 4, 0], [1, 2, 3, 1]])
    with pytest.raises(DataError, match=r"d.csv: row 3: 4 fields, the header has 5"):
        xd.load(_spec(p))
    _write_csv(p, ["1", "2", "3", "4", "5"], [[1, 2, 3, 4, 0]])
    with pytest.raises(DataError, match=r"d.csv: the first row must be a header"):
        xd.load(_spec(p))
    _write_csv(p, ["a", "b", "c", "d", "label"], [[1, 2, "nan", 4, 0]] * 5)
    with pytest.raises(DataError, match=r"d.csv: features: contains NaN or Inf"):
        xd.load(_spec(p))


def test_csv_text_labels(tmp_path):
    x, y = _xy(30)
    p = tmp_path / "d.csv"
    names = np.array(["setosa", "versicolor", "virginica"])
    _write_csv(p, ["a", "b", "c", "d", "species"], [[*r, names[t]] for r, t in zip(x, y)])
    ds = xd.load(_spec(p))
    assert ds.classes == list(names)


# ------------------------------------------------------------------ mat
def test_mat_loads_and_squeezes_column_labels(tmp_path):
    x, y = _xy()
    p = tmp_path / "d.mat"
    scipy.io.savemat(p, {"x": x, "y": y.reshape(-1, 1).astype(float)})
    ds = xd.load(_spec(p))
    assert ds.train[1].ndim == 1
    scipy.io.savemat(p, {"X": x.T, "Y": y.reshape(1, -1)})
    ds2 = xd.load(_spec(p, options={"x_key": "X", "y_key": "Y", "sample_axis": "last"}))
    assert ds2.data_hash == ds.data_hash


@pytest.mark.parametrize("kind", ["struct", "cell", "char"])
def test_mat_refuses_non_numeric(tmp_path, kind):
    x, y = _xy()
    cell = np.empty(2, dtype=object)
    cell[0], cell[1] = x, y
    value = {"struct": {"a": x}, "cell": cell, "char": "hello"}[kind]
    p = tmp_path / "d.mat"
    scipy.io.savemat(p, {"x": value, "y": y})
    with pytest.raises(DataError, match=rf"d.mat: x: a MATLAB {kind}, not a numeric array"):
        xd.load(_spec(p))


def _patch_class(data: bytes, name: bytes, new_class: int) -> bytes:
    """Rewrite the class byte of variable ``name`` in an uncompressed v5 file (array flags come
    right after the miMATRIX tag: tag(8) + flags tag(8) + flags(8); class is the low byte)."""
    i = 128
    out = bytearray(data)
    while i < len(out):
        size = int.from_bytes(out[i + 4:i + 8], "little")
        if name in bytes(out[i:i + 8 + size])[:80]:
            out[i + 16] = new_class
            return bytes(out)
        i += 8 + size
    raise AssertionError("variable not found")


@pytest.mark.parametrize("cls,what", [(16, "a function handle"), (3, "a MATLAB object")])
def test_mat_refuses_function_handles_and_objects(tmp_path, cls, what):
    x, y = _xy()
    p = tmp_path / "d.mat"
    scipy.io.savemat(p, {"x": x, "y": y, "h": np.zeros((1, 1))})
    p.write_bytes(_patch_class(p.read_bytes(), b"h", cls))
    assert any(c in ("function", "object") for _, _, c in scipy.io.whosmat(p))
    with pytest.raises(DataError, match=rf"d.mat: h: {what}; xnn reads numeric arrays only"):
        xd.load(_spec(p))


def test_mat_missing_variable_and_garbage(tmp_path):
    x, y = _xy()
    p = tmp_path / "d.mat"
    scipy.io.savemat(p, {"inputs": x, "y": y})
    with pytest.raises(DataError, match=r"d.mat: x: no such variable; the file holds \['inputs', 'y'\]"):
        xd.load(_spec(p))
    with pytest.raises(DataError, match=r"d.mat: input: no such variable.*did you mean 'inputs'"):
        xd.load(_spec(p, options={"x_key": "input"}))
    p.write_bytes(b"MATLAB 5.0 MAT-file" + b"\x07" * 300)
    with pytest.raises(DataError, match=r"d.mat: not a readable .mat file"):
        xd.load(_spec(p))


def test_mat_v73_via_h5py(tmp_path):
    h5py = pytest.importorskip("h5py")
    x, y = _xy()
    p = tmp_path / "d.mat"
    with h5py.File(p, "w", userblock_size=512) as f:
        f.create_dataset("x", data=x.T).attrs["MATLAB_class"] = np.bytes_("double")
        f.create_dataset("y", data=y.reshape(1, -1).astype(float)).attrs["MATLAB_class"] = np.bytes_("double")
        g = f.create_group("s")
        g.attrs["MATLAB_class"] = np.bytes_("struct")
    with open(p, "r+b") as fh:
        fh.write(b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(116))
    ds = xd.load(_spec(p))
    scipy.io.savemat(tmp_path / "v5.mat", {"x": x, "y": y})
    assert ds.data_hash == xd.load(_spec(tmp_path / "v5.mat")).data_hash
    with h5py.File(p, "a") as f:
        f["x"].attrs["MATLAB_class"] = np.bytes_("function_handle")
    with pytest.raises(DataError, match=r"d.mat: x: a MATLAB function_handle"):
        xd.load(_spec(p))


# ------------------------------------------------------------------ read_file (predict input)
def test_read_file_applies_the_training_preprocessing(tmp_path):
    spec = make_spec(shape=(4,), units=3, data={"source": "iris", "x": "standardize"})
    ds = xd.load(spec)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4)) + 5
    p = tmp_path / "in.npz"
    np.savez(p, x=x)
    xr, yr = xd.read_file(p, spec, ds.preprocess)
    assert yr is None and xr.dtype == np.float32
    np.testing.assert_allclose(xr, (x - ds.preprocess.x_shift) / ds.preprocess.x_scale, rtol=1e-5)
    np.save(tmp_path / "in.npy", x)
    xn, _ = xd.read_file(tmp_path / "in.npy", spec, ds.preprocess)
    np.testing.assert_array_equal(xn, xr)
    with pytest.raises(DataError, match=r"in.npz: y: no such array"):
        xd.read_file(p, spec, ds.preprocess, need_y=True)


def test_read_npy_with_objects_refused(tmp_path):
    spec = make_spec(shape=(4,), units=3)
    p = tmp_path / "in.npy"
    np.save(p, np.array([[1, 2, 3, {}]], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match=r"in.npy: x: holds Python objects"):
        xd.read_file(p, spec)
