"""import_mat on damaged, hostile or mismatched files: FormatError naming the file (and the
variable), never another exception, never unpickling, nothing written."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.io import savemat
from scipy.io.matlab import MatlabObject

from xnn.errors import FormatError
from xnn.init import init_params
from xnn.interop.mat import build_variables, export_mat, import_mat
from xnn.spec import from_dict

SPEC = {"input": {"shape": [5, 4, 2]}, "model": [
    {"type": "Conv2D", "filters": 3, "kernel_size": 3, "padding": "same", "name": "conv"},
    {"type": "BatchNorm", "name": "bn"}, {"type": "Flatten", "name": "fl"}, {"type": "Dense", "units": 2, "name": "fc"}],
    "train": {"loss": "mse", "metrics": []}}


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> tuple[Path, bytes]:
    spec = from_dict(SPEC)
    path = export_mat(spec, init_params(spec), tmp_path_factory.mktemp("good") / "good.mat", n_ref=2)
    return path, path.read_bytes()


def _save(path: Path, variables: dict) -> Path:
    savemat(str(path), variables, format="5", long_field_names=True, oned_as="column")
    return path


def _rejects(path: Path, *needles: str) -> str:
    before = sorted(path.parent.iterdir())
    with pytest.raises(FormatError) as ei:
        import_mat(path)
    msg = str(ei.value)
    assert str(path) in msg, msg
    for n in needles:
        assert n in msg, msg
    assert sorted(path.parent.iterdir()) == before  # nothing written
    return msg


def test_good_file_imports(good):
    spec_dict, params = import_mat(good[0])
    assert set(params) == set(from_dict(SPEC).param_shapes())


@pytest.mark.parametrize("cut", [0, 10, 127, 128, 140, 400, -9, -1])
def test_truncated(tmp_path, good, cut):
    data = good[1]
    p = tmp_path / "t.mat"
    p.write_bytes(data[:cut] if cut >= 0 else data[:len(data) + cut])
    _rejects(p)


def test_not_a_mat_and_zeroed(tmp_path, good):
    p = tmp_path / "x.mat"
    p.write_text("{\"this\": \"is json\"}\n" * 20)
    _rejects(p, "not a MAT file")
    p.write_bytes(b"\x00" * len(good[1]))
    _rejects(p)
    _rejects(tmp_path / "missing.mat", "no such")


def test_corrupt_compressed(tmp_path):
    spec = from_dict(SPEC)
    p = export_mat(spec, init_params(spec), tmp_path / "c.mat", compress=True)
    data = bytearray(p.read_bytes())
    mid = len(data) // 2
    data[mid:mid + 16] = b"\xff" * 16
    p.write_bytes(bytes(data))
    _rejects(p)


def test_matlab_object_rejected(tmp_path):
    rec = np.zeros((1, 1), dtype=[("serialized", object)])
    rec[0, 0]["serialized"] = np.array([[1.0]])
    obj = MatlabObject(rec, classname="containers.Map")
    p = _save(tmp_path / "o.mat", {"layers": obj, "xnn_format": np.int32(1)})
    _rejects(p, "layers", "objects")


def _patch_class(tmp_path: Path, cls: int) -> Path:
    """A struct variable 'layers' whose class byte is changed (16: function handle, 17: opaque)."""
    p = _save(tmp_path / f"k{cls}.mat", {"layers": {"a": np.array([[1.0]])}, "xnn_format": np.int32(1)})
    data = bytearray(p.read_bytes())
    # first element at 128: miMATRIX tag (8 bytes), then the array-flags subelement tag (8 bytes);
    # the flags' low byte (little endian) is the MATLAB class
    assert data[144] == 2  # mxSTRUCT_CLASS
    data[144] = cls
    p.write_bytes(bytes(data))
    return p


def test_function_handle_rejected(tmp_path):
    _rejects(_patch_class(tmp_path, 16), "layers")


def test_opaque_rejected(tmp_path):
    _rejects(_patch_class(tmp_path, 17), "layers")


def test_shape_disagrees_with_spec(tmp_path):
    spec = from_dict(SPEC)
    v = build_variables(spec, init_params(spec))
    v["layers"][0, 0]["weights"]["Weights"] = v["layers"][0, 0]["weights"]["Weights"][:, :, :, :2]
    _rejects(_save(tmp_path / "s.mat", v), "layers{1}.weights.Weights", "does not match")


def test_layer_mismatch_and_bad_spec(tmp_path):
    spec = from_dict(SPEC)
    v = build_variables(spec, init_params(spec))
    v["layers"][1, 0]["name"] = "other"
    _rejects(_save(tmp_path / "n.mat", v), "layers{2}")
    v = build_variables(spec, init_params(spec))
    v["spec_json"] = '{"input": {"shape": [0]}, "model": []}'
    _rejects(_save(tmp_path / "j.mat", v), "spec_json")
    v = build_variables(spec, init_params(spec))
    v["xnn_format"] = np.int32(99)
    _rejects(_save(tmp_path / "f.mat", v), "xnn_format")
    v = build_variables(spec, init_params(spec))
    v["layers"][3, 0]["weights"]["Bias"] = np.full((2, 1), np.nan, np.float32)
    _rejects(_save(tmp_path / "nan.mat", v), "layers{4}.weights.Bias", "NaN")


def test_oversized(tmp_path, good):
    with pytest.raises(FormatError, match="larger than"):
        import_mat(good[0], max_bytes=1000)
    # a compressed element that inflates far beyond its size (a zip bomb) is stopped while inflating
    spec = from_dict(SPEC)
    v = build_variables(spec, init_params(spec))
    v["ref_output"] = np.zeros((4000, 1000))  # 32 MB of zeros compresses to ~30 kB
    p = tmp_path / "bomb.mat"
    savemat(str(p), v, do_compression=True, oned_as="column")
    assert p.stat().st_size < 200_000
    with pytest.raises(FormatError, match="inflates past"):
        import_mat(p, max_bytes=1_000_000)


def test_hdf5_v73_damaged(tmp_path):
    spec = from_dict(SPEC)
    with pytest.warns(UserWarning):
        p = export_mat(spec, init_params(spec), tmp_path / "h.mat", version="7.3")
    assert import_mat(p)[1]
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    _rejects(p)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_damaged_bytes(tmp_path, good, data):
    """Random overwrites and truncations: a clean import or a FormatError, nothing else."""
    raw = bytearray(good[1])
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        chunk = data.draw(st.binary(min_size=1, max_size=16))
        raw[at:at + len(chunk)] = chunk
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    p = tmp_path / "fuzz.mat"
    p.write_bytes(bytes(raw))
    try:
        spec_dict, params = import_mat(p)
    except FormatError as e:
        assert str(p) in str(e)
    else:
        assert isinstance(spec_dict, dict) and all(np.all(np.isfinite(v)) for v in params.values())


# ------------------------------------------------------------------ raw MAT 5 bytes scipy would crash on
def _el(t: int, payload: bytes) -> bytes:
    return (t.to_bytes(4, "little") + len(payload).to_bytes(4, "little") + payload
            + b"\0" * ((8 - len(payload) % 8) % 8))


def _matrix(cls: int, dims, name: bytes, body: bytes) -> bytes:
    flags = _el(6, cls.to_bytes(4, "little") + b"\0" * 4)
    d = _el(5, b"".join(int(x).to_bytes(4, "little", signed=True) for x in dims))
    return _el(14, flags + d + _el(1, name) + body)


def _mat5(path: Path, *elements: bytes) -> Path:
    path.write_bytes(b"MATLAB 5.0 MAT-file, xnn hostile test".ljust(116) + b"\0" * 8 + b"\x00\x01IM"
                     + b"".join(elements))
    return path


def test_unknown_data_type_refused_before_scipy(tmp_path):
    """scipy indexes a table by the data type without a bounds check: type 265 crashed the process."""
    p = _mat5(tmp_path / "t.mat", _matrix(6, (1, 1), b"layers", _el(265, b"\0" * 8)))
    _rejects(p, "layers", "unknown MAT data type 265")


def test_member_missing_its_data_refused_before_scipy(tmp_path):
    """A char inside a cell without its data element: scipy read the next member's tag as the data
    (a segmentation fault)."""
    body = _matrix(4, (1, 4), b"", b"") + _matrix(6, (1, 1), b"", _el(9, b"\0" * 8))
    _rejects(_mat5(tmp_path / "c.mat", _matrix(1, (2, 1), b"layers", body)), "layers", "unknown MAT data type 14")


def test_fieldless_struct_array_refused_before_allocation(tmp_path):
    """A struct array of 2**29 elements without fields: scipy allocated 4 GB of objects."""
    body = _el(5, (32).to_bytes(4, "little")) + _el(1, b"")
    cell = _matrix(2, (1, 2**29), b"", body)
    _rejects(_mat5(tmp_path / "s.mat", _matrix(1, (1, 1), b"layers", cell)), "layers", "without fields")


def test_mat5_crash_inputs_refused_by_the_data_reader_too(tmp_path):
    from xnn.data.files import read_any
    from xnn.errors import DataError

    p = _mat5(tmp_path / "d.mat", _matrix(6, (1, 4), b"x", _el(265, b"\0" * 32)))
    with pytest.raises(DataError, match=r"d.mat: .*variable x: unknown MAT data type 265"):
        read_any(p, {}, need_y=False)


# ------------------------------------------------------------------ v7.3 (HDF5): the hardened reader
@pytest.fixture(scope="module")
def good73(tmp_path_factory) -> tuple[Path, bytes]:
    spec = from_dict(SPEC)
    with pytest.warns(UserWarning):
        path = export_mat(spec, init_params(spec), tmp_path_factory.mktemp("good73") / "good.mat", version="7.3",
                          n_ref=2)
    return path, path.read_bytes()


def test_v73_external_storage_and_links_refused(tmp_path):
    from tests.hostile import gen_files as g

    _rejects(g._import_external(tmp_path / "e.mat"), "variable layers", "external")
    _rejects(g._import_external_link(tmp_path / "l.mat"), "variable layers", "external link")
    _rejects(g._import_soft_dangling(tmp_path / "d.mat"), "variable layers", "dangling")
    _rejects(g._import_declares_huge(tmp_path / "h.mat"), "variable layers", "XNN_LIMIT_MAX_ARRAY_BYTES")


def test_deep_spec_json_is_one_line(tmp_path):
    v = build_variables(from_dict(SPEC), init_params(from_dict(SPEC)))
    v["spec_json"] = "[" * 50_000 + "]" * 50_000
    _rejects(_save(tmp_path / "j.mat", v), "spec_json", "nested deeper")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_damaged_bytes_v73(tmp_path, good73, data):
    """Random overwrites and truncations of a v7.3 (HDF5) export: a clean import or a FormatError."""
    raw = bytearray(good73[1])
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(512, len(raw) - 1))
        chunk = data.draw(st.binary(min_size=1, max_size=16))
        raw[at:at + len(chunk)] = chunk
    if data.draw(st.booleans()):
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    p = tmp_path / "fuzz73.mat"
    p.write_bytes(bytes(raw))
    try:
        spec_dict, params = import_mat(p)
    except FormatError as e:
        assert str(p) in str(e)
    else:
        assert isinstance(spec_dict, dict) and all(np.all(np.isfinite(v)) for v in params.values())
