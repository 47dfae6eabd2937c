"""The data readers (xnn.data.files.read_any, the .mat import) called in-process on hostile files:
one DataError/FormatError naming the file (and variable), never another exception; nothing
outside the file is read; sizes are refused before allocation. Then property-based fuzzing
(byte flips and truncations of valid .npz / .csv / .mat v5 / .mat v7.3 files)."""
from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xnn.data as xd
from xnn.data.files import read_any
from xnn.errors import DataError, FormatError
from xnn.interop.mat import import_mat

from tests.hostile import gen_files as g

h5py = pytest.importorskip("h5py")


def _refused(path: Path, *needles: str, need_y: bool = False, options=None, error=DataError) -> str:
    before = sorted(p.name for p in path.parent.iterdir())
    with pytest.raises(error) as ei:
        if error is FormatError:
            import_mat(path)
        else:
            read_any(path, options or {}, need_y=need_y)
    msg = str(ei.value).splitlines()[0]
    assert str(path) in msg, msg
    for n in needles:
        assert n in msg, msg
    assert sorted(p.name for p in path.parent.iterdir()) == before
    return msg


# ------------------------------------------------------------------ HDF5: reaching outside the file
def test_external_storage_refused_by_both_readers(tmp_path):
    p = g.mat73(tmp_path / "evil.mat", g._external)
    with h5py.File(p, "r") as f:  # it really does read the system file through plain h5py
        assert f["x"].id.get_create_plist().get_external_count() == 1
    _refused(p, "x", "external", g.SYSTEM_FILE)
    _refused(g._import_external(tmp_path / "w.mat"), "variable layers", "external", error=FormatError)


@pytest.mark.parametrize("fill,needle", [(g._external_link, "external link"), (g._soft_dangling, "dangling"),
                                         (g._soft_loop, "soft links nested"),
                                         (g._soft_through_external, "external link")])
def test_links_refused(tmp_path, fill, needle):
    _refused(g.mat73(tmp_path / "l.mat", fill), "x", needle)


def test_in_file_soft_link_is_followed(tmp_path):
    def fill(f):
        g._good_x(f, "data")
        f["x"] = h5py.SoftLink("/hop")  # two in-file hops, one relative
        f["hop"] = h5py.SoftLink("data")

    raw = read_any(g.mat73(tmp_path / "s.mat", fill), {}, need_y=False)
    assert raw.x.shape == (6, 4)


def test_virtual_dataset_refused(tmp_path):
    _refused(g.mat73(tmp_path / "v.mat", g._virtual(tmp_path)), "x", "virtual")


def test_unknown_filter_refused(tmp_path):
    _refused(g.mat73(tmp_path / "u.mat", g._unknown_filter), "x", "filter 32123")


def test_standard_filters_accepted(tmp_path):
    def fill(f):
        g._cls(f.create_dataset("x", data=np.arange(24.0).reshape(4, 6), compression="gzip", shuffle=True,
                                fletcher32=True, chunks=(2, 3)))

    assert read_any(g.mat73(tmp_path / "z.mat", fill), {}, need_y=False).x.shape == (6, 4)


# ------------------------------------------------------------------ sizes before allocation
@pytest.mark.parametrize("fill,needle", [(g._declares_huge, "XNN_LIMIT_MAX_ARRAY_BYTES"),
                                         (g._declares_fill, "stores only"), (g._huge_chunk, "chunks")])
def test_hdf5_sizes_refused_before_reading(tmp_path, fill, needle):
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _refused(g.mat73(tmp_path / "b.mat", fill), "x", needle)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # KiB: nothing allocated


def test_rank_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("XNN_LIMIT_MAX_ARRAY_DIMS", "3")

    def fill(f):
        g._cls(f.create_dataset("x", shape=(1, 1, 1, 4, 6), dtype="f8"))

    _refused(g.mat73(tmp_path / "r.mat", fill), "x", "XNN_LIMIT_MAX_ARRAY_DIMS")
    p = tmp_path / "r.npz"
    np.savez(p, x=np.zeros((1, 1, 1, 6, 4)))
    _refused(p, "x", "XNN_LIMIT_MAX_ARRAY_DIMS")
    scipy.io.savemat(tmp_path / "r5.mat", {"x": np.zeros((1, 1, 1, 6, 4))})
    _refused(tmp_path / "r5.mat", "x", "XNN_LIMIT_MAX_ARRAY_DIMS")


def test_array_byte_limit_is_the_shared_one(tmp_path, monkeypatch):
    p = tmp_path / "d.npz"
    np.savez(p, x=np.zeros((100, 4)))
    assert read_any(p, {}, need_y=False).x.shape == (100, 4)
    monkeypatch.setenv("XNN_LIMIT_MAX_ARRAY_BYTES", "1000")
    _refused(p, "x", "XNN_LIMIT_MAX_ARRAY_BYTES")
    scipy.io.savemat(tmp_path / "d.mat", {"x": np.zeros((100, 4))})
    _refused(tmp_path / "d.mat", "x", "XNN_LIMIT_MAX_ARRAY_BYTES")
    g.mat73(tmp_path / "h.mat", lambda f: g._cls(f.create_dataset("x", data=np.zeros((4, 100)))))
    _refused(tmp_path / "h.mat", "x", "XNN_LIMIT_MAX_ARRAY_BYTES")
    (tmp_path / "d.csv").write_text("a,b,c,d\n" + "1,2,3,4\n" * 100)
    _refused(tmp_path / "d.csv", "XNN_LIMIT_MAX_ARRAY_BYTES")


def test_v5_zip_bomb_stopped_while_inflating(tmp_path, monkeypatch):
    p = tmp_path / "bomb.mat"
    scipy.io.savemat(p, {"x": np.zeros((4000, 1000)), "y": np.zeros(4000)}, do_compression=True)
    assert p.stat().st_size < 200_000
    monkeypatch.setenv("XNN_LIMIT_MAX_ARRAY_BYTES", "1000000")
    _refused(p, "inflates past", need_y=True)


def test_v5_header_lies(tmp_path):
    _refused(g._v5_declares_huge(tmp_path / "v5.mat"), "x", "XNN_LIMIT_MAX_ARRAY_BYTES")


@pytest.mark.parametrize("header,data,needle", [
    ({"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)}, b"\0" * 64, "XNN_LIMIT_MAX_ARRAY_BYTES"),
    ({"descr": "<f8", "fortran_order": False, "shape": (10_000, 4)}, b"\0" * 64, "only"),
    ({"descr": "|O", "fortran_order": False, "shape": (2,)}, b"\x80\x04N.", "objects"),
])
def test_npz_and_npy_headers_checked_first(tmp_path, header, data, needle):
    raw = g.npy_bytes(header, data)
    _refused(g.npz_of(tmp_path / "d.npz", {"x": raw}), "x", needle)
    (tmp_path / "d.npy").write_bytes(raw)
    _refused(tmp_path / "d.npy", "x", needle)


def test_csv_limits(tmp_path):
    _refused(g._csv_big_cell(tmp_path / "c.csv"), "line 2", "XNN_LIMIT_MAX_CSV_CELL_BYTES")
    _refused(g._csv_wide_row(tmp_path / "w.csv"), "columns")
    (tmp_path / "q.csv").write_text('a,b,c,d\n1,2,3,"' + "x\n" * 10_000 + '"\n')
    _refused(tmp_path / "q.csv", "XNN_LIMIT_MAX_CSV_CELL_BYTES")
    (tmp_path / "n.csv").write_bytes(b"a,b,c,d\n1,2,\x003,4\n")
    _refused(tmp_path / "n.csv", "NUL")


def test_csv_long_text_labels_do_not_blow_up(tmp_path):
    # 20,000 rows, one label of 4,000 characters: a fixed-width string array would be 320 MB
    rows = "".join(f"1,2,3,4,{'a' if i else 'b' * 4000}\n" for i in range(20_000))
    (tmp_path / "t.csv").write_text("a,b,c,d,label\n" + rows)
    raw = read_any(tmp_path / "t.csv", {}, need_y=True)
    assert raw.classes == ["a", "b" * 4000] and raw.y.dtype == np.int64 and raw.y[0] == 1


# ------------------------------------------------------------------ damage: one clear line
def test_zeroed_and_truncated_hdf5(tmp_path):
    _refused(g._zeroed(tmp_path / "z.mat"), "x")
    _refused(g._truncated(tmp_path / "t.mat"))
    _refused(g._import_zeroed(tmp_path / "w.mat"), "variable layers", error=FormatError)
    _refused(g._import_soft_dangling(tmp_path / "d.mat"), "dangling", error=FormatError)


def test_deep_spec_json(tmp_path):
    _refused(g._import_deep_json(tmp_path / "j.mat"), "spec_json", "nested deeper", error=FormatError)


# ------------------------------------------------------------------ values beyond the run's dtype
def _spec(**data):
    from tests.data.conftest import make_spec

    return make_spec(shape=(4,), units=3, data=data)


def test_beyond_float32_named_with_index(tmp_path):
    p = tmp_path / "big.npz"
    x = np.zeros((5, 4))
    x[3, 2] = 1e39
    np.savez(p, x=x)
    with pytest.raises(DataError, match=r"big.npz: x\[3, 2\]: 1e\+39 is beyond the range of float32"):
        xd.read_file(p, _spec())
    np.savez(p, x=np.zeros((5, 4)), y=np.array([0, 1, 1e39, 0, 1]))
    with pytest.raises(DataError, match=r"big.npz: y\[2\]: label 1e\+39 out of range"):
        xd.read_file(p, _spec(), need_y=True)
    x[3, 2] = 3e38  # within float32: accepted
    np.savez(p, x=x)
    assert np.isfinite(xd.read_file(p, _spec())[0]).all()


def test_beyond_float32_regression_targets(tmp_path):
    from tests.data.conftest import make_spec

    p = tmp_path / "r.npz"
    np.savez(p, x=np.zeros((5, 4)), y=np.array([0, 1, 1e39, 0, 1.0]))
    with pytest.raises(DataError, match=r"r.npz: y\[2, 0\]: 1e\+39 is beyond the range of float32"):
        xd.load(make_spec(shape=(4,), units=1, loss="mse", data={"source": str(p)}))


def test_integer_inputs_outside_range(tmp_path):
    from xnn.data.dataset import _cast

    with pytest.raises(DataError, match=r"f: x\[1\]: 3000000000.0 is outside the range of int32"):
        _cast(np.array([1.0, 3e9]), "int32", "f", "x")


def test_preprocessing_overflow_named(tmp_path):
    from xnn.data.preprocess import Preprocess

    spec = _spec()
    pre = Preprocess(x_method="standardize", x_shift=np.zeros(4), x_scale=np.full(4, 1e-30))
    p = tmp_path / "in.npz"
    np.savez(p, x=np.full((2, 4), 1e10))
    with pytest.raises(DataError, match=r"in.npz: x\[0, 0\]: beyond the range of float32 after preprocessing"):
        xd.read_file(p, spec, pre)


# ------------------------------------------------------------------ fuzzing
def _good_files(d: Path) -> dict[str, bytes]:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 4)), np.arange(12) % 3
    out = {}
    buf = io.BytesIO()
    np.savez_compressed(buf, x=x, y=y)
    out["d.npz"] = buf.getvalue()
    buf = io.BytesIO()
    np.savez(buf, x=x, y=y)
    out["u.npz"] = buf.getvalue()
    out["d.csv"] = ("a,b,c,d,label\n" + "".join(f"{r[0]:.3f},{r[1]:.3f},{r[2]:.3f},{r[3]:.3f},{t}\n"
                                                 for r, t in zip(x, y))).encode()
    scipy.io.savemat(d / "v5.mat", {"x": x, "y": y.astype(float)})
    scipy.io.savemat(d / "v7.mat", {"x": x, "y": y.astype(float)}, do_compression=True)
    g.mat73(d / "h.mat", lambda f: (g._cls(f.create_dataset("x", data=x.T)),
                                    g._cls(f.create_dataset("y", data=y.reshape(1, -1).astype(float)))))
    g.mat73(d / "hz.mat", lambda f: (g._cls(f.create_dataset("x", data=x.T, compression="gzip", chunks=(2, 6))),
                                     g._cls(f.create_dataset("y", data=y.reshape(1, -1).astype(float)))))
    for n in ("v5.mat", "v7.mat", "h.mat", "hz.mat"):
        out[n] = (d / n).read_bytes()
    return out


@pytest.fixture(scope="module")
def good_files(tmp_path_factory):
    files = _good_files(tmp_path_factory.mktemp("good"))
    d = tmp_path_factory.mktemp("check")
    for name, data in files.items():
        (d / name).write_bytes(data)
        raw = read_any(d / name, {}, need_y=True)
        assert raw.x.shape == (12, 4), name
    return files


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_data_readers(tmp_path, good_files, data):
    """Byte overwrites, flips and truncations of valid files: load, or one DataError naming the file."""
    name = data.draw(st.sampled_from(sorted(good_files)))
    raw = bytearray(good_files[name])
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        if data.draw(st.booleans()):
            chunk = data.draw(st.binary(min_size=1, max_size=16))
            raw[at:at + len(chunk)] = chunk
        else:
            raw[at] ^= 1 << data.draw(st.integers(0, 7))
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    p = tmp_path / f"fuzz_{name}"
    p.write_bytes(bytes(raw))
    try:
        out = read_any(p, {}, need_y=data.draw(st.booleans()))
    except DataError as e:
        assert str(p) in str(e).splitlines()[0], str(e)
    else:
        assert isinstance(out.x, np.ndarray) and out.x.dtype.kind in "biuf"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_zip_members(tmp_path, data):
    """Valid zip containers around damaged .npy members (the zip CRC would not catch a lying header)."""
    x = np.arange(48.0).reshape(12, 4)
    buf = io.BytesIO()
    np.save(buf, x)
    member = bytearray(buf.getvalue())
    at = data.draw(st.integers(0, 127))  # the header: magic, lengths, the dict
    chunk = data.draw(st.binary(min_size=1, max_size=8))
    member[at:at + len(chunk)] = chunk
    p = tmp_path / "m.npz"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("x.npy", bytes(member))
    try:
        out = read_any(p, {}, need_y=False)
    except DataError as e:
        assert str(p) in str(e), str(e)
    else:
        assert out.x.dtype.kind in "biuf"
