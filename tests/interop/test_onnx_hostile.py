"""Untrusted ONNX files: truncated, empty, corrupt, external data outside the folder, fuzzed bytes."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

from tests.parity.harness import case_spec
from xnn.errors import FormatError
from xnn.init import init_params
from xnn.interop.onnx import build_model, import_onnx
from xnn.spec import from_dict


def _good_bytes() -> bytes:
    spec = from_dict({"input": {"shape": [6, 5, 2]}, "model": [
        {"type": "Conv2D", "filters": 3, "kernel_size": 3}, "relu", "Flatten", {"type": "Dense", "units": 2}]})
    return build_model(spec, init_params(spec)).SerializeToString()


GOOD = _good_bytes()


@pytest.mark.parametrize("damage", ["zero", "truncated_half", "truncated_tail", "garbage", "zeros"])
def test_damaged_files_raise_format_error_naming_the_file(damage, tmp_path):
    data = {"zero": b"", "truncated_half": GOOD[: len(GOOD) // 2], "truncated_tail": GOOD[:-7],
            "garbage": bytes(range(256)) * 8, "zeros": b"\0" * 4096}[damage]
    path = tmp_path / f"{damage}.onnx"
    path.write_bytes(data)
    with pytest.raises(FormatError) as e:
        import_onnx(path)
    assert str(path) in str(e.value)


def test_missing_file(tmp_path):
    with pytest.raises(FormatError, match="no such file"):
        import_onnx(tmp_path / "nope.onnx")


@pytest.mark.parametrize("location", ["../../etc/passwd", "/etc/passwd", "sub/../../x.bin"])
def test_external_data_outside_the_folder_is_refused(location, tmp_path):
    w = numpy_helper.from_array(np.ones((2, 4), np.float32), "W")
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", "0"), ("length", "32")):
        e = w.external_data.add()
        e.key, e.value = k, v
    g = helper.make_graph([helper.make_node("Gemm", ["x", "W"], ["y"], transB=1)], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2])], initializer=[w])
    d = tmp_path / "model"
    d.mkdir()
    path = d / "m.onnx"
    path.write_bytes(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    with pytest.raises(FormatError, match="outside the model's folder"):
        import_onnx(path)


def test_external_data_inside_the_folder_loads(tmp_path):
    spec = from_dict({"input": {"shape": [4]}, "model": [{"type": "Dense", "units": 3}]})
    params = init_params(spec)
    model = build_model(spec, params)
    path = tmp_path / "m.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="m.data", size_threshold=0)
    sd, back = import_onnx(path)
    np.testing.assert_array_equal(back["dense1.weight"], params["dense1.weight"].astype(np.float32))


def test_external_data_beyond_its_file_is_refused(tmp_path):
    spec = from_dict({"input": {"shape": [4]}, "model": [{"type": "Dense", "units": 3}]})
    path = tmp_path / "m.onnx"
    onnx.save_model(build_model(spec, init_params(spec)), str(path), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="m.data", size_threshold=0)
    (tmp_path / "m.data").write_bytes(b"\0" * 8)  # shorter than the tensors say
    with pytest.raises(FormatError, match="beyond"):
        import_onnx(path)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_fuzzed_bytes_never_crash(tmp_path, data):
    """Flip, drop or cut bytes of a good file: the loader imports it or raises FormatError."""
    b = bytearray(GOOD)
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(b) - 1))
        op = data.draw(st.sampled_from(["flip", "drop", "cut"]))
        if op == "flip":
            b[i] ^= data.draw(st.integers(1, 255))
        elif op == "drop":
            del b[i]
        else:
            del b[i:]
        if not b:
            break
    path = tmp_path / "fuzz.onnx"
    path.write_bytes(bytes(b))
    try:
        sd, params = import_onnx(path)
    except FormatError:
        return
    from_dict(sd)  # what imports must be a valid spec


def test_export_failure_writes_nothing(tmp_path):
    from xnn.interop.onnx import export_onnx

    spec = case_spec("Dense", __import__("xnn").spec.layers()["Dense"].cases()[0], "float32")
    with pytest.raises(FormatError):
        export_onnx(spec, init_params(spec), tmp_path / "m.onnx", opset=5)
    assert list(tmp_path.iterdir()) == []
