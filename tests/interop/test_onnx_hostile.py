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


# --------------------------------------------------------------------------- issue 11: bounds before allocation
def _vi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def _bias_model(const_nodes, inits, c="c", opset=17):
    """x (N, 4) -> Gemm -> + c, with c folded from ``const_nodes``."""
    w = numpy_helper.from_array(np.ones((2, 4), np.float32), "W")
    nodes = [*const_nodes, helper.make_node("Gemm", ["x", "W"], ["g"], transB=1), helper.make_node("Add", ["g", c], ["y"])]
    g = helper.make_graph(nodes, "g", [_vi("x", ["N", 4])], [_vi("y", ["N", 2])], initializer=[w, *inits])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])


def _save(tmp_path, model, name="m.onnx"):
    p = tmp_path / name
    p.write_bytes(model.SerializeToString())
    return p


def _cos(n):
    return _bias_model([helper.make_node("ConstantOfShape", ["s"], ["c"])],
                       [numpy_helper.from_array(np.array(n, np.int64), "s")])


def test_folding_is_sized_before_it_is_computed(tmp_path):
    """ConstantOfShape([750000000]) in a 200-byte file: refused from the shape alone (it used to reach 9 GB)."""
    import tracemalloc

    path = _save(tmp_path, _cos([750_000_000]))
    tracemalloc.start()
    try:
        with pytest.raises(FormatError, match=r"ConstantOfShape.*3000000000 bytes.*XNN_LIMIT_MAX_FOLDED_BYTES"):
            import_onnx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, peak
    assert str(path) in str(pytest.raises(FormatError, import_onnx, path).value)


def test_folded_limit_is_raised_by_the_environment(tmp_path, monkeypatch):
    ok = _cos([1, 2])  # a (1, 2) zero bias: folds to 8 bytes and imports
    path = _save(tmp_path, ok)
    sd, params = import_onnx(path)
    assert sd["model"][-1]["use_bias"] is True
    monkeypatch.setenv("XNN_LIMIT_MAX_FOLDED_BYTES", "4")
    with pytest.raises(FormatError, match="8 bytes, more than 4"):
        import_onnx(path)


def test_all_folded_constants_together_are_bounded(tmp_path, monkeypatch):
    """Many constants, each under the limit, are refused once they hold 4 x MAX_FOLDED_BYTES in all."""
    monkeypatch.setenv("XNN_LIMIT_MAX_FOLDED_BYTES", str(4096))
    nodes = [helper.make_node("ConstantOfShape", ["s"], ["k0"])]
    for i in range(8):  # each Neg: 4000 bytes; together 32 KB
        nodes.append(helper.make_node("Neg", [f"k{i}"], [f"k{i + 1}"]))
    nodes.append(helper.make_node("ReduceSum", ["k8"], ["c"], keepdims=0))  # not folded: refused later anyway
    path = _save(tmp_path, _bias_model(nodes, [numpy_helper.from_array(np.array([1000], np.int64), "s")]))
    with pytest.raises(FormatError, match="in all, more than 4 x 4096"):
        import_onnx(path)


@pytest.mark.parametrize("op,inputs,field", [
    ("Expand", {"one": np.ones(1, np.float32), "s": np.array([10**5, 10**5], np.int64)}, "40000000000 bytes"),
    ("Range", {"a": np.array(0, np.float32), "b": np.array(1e9, np.float32), "d": np.array(1, np.float32)},
     "4000000000 bytes"),
    ("Range", {"a": np.array(0, np.float32), "b": np.array(5, np.float32), "d": np.array(0, np.float32)},
     "no finite length"),
    ("ConstantOfShape", {"s": np.array([-3, 2], np.int64)}, "negative dimension"),
    ("ConstantOfShape", {"s": np.ones(40, np.int64)}, "XNN_LIMIT_MAX_ARRAY_DIMS"),
])
def test_each_growing_fold_is_sized(op, inputs, field, tmp_path):
    inits = [numpy_helper.from_array(v, k) for k, v in inputs.items()]
    path = _save(tmp_path, _bias_model([helper.make_node(op, list(inputs), ["c"])], inits))
    with pytest.raises(FormatError, match=field):
        import_onnx(path)


def test_external_location_with_a_nul_byte_is_one_line(tmp_path):
    w = numpy_helper.from_array(np.ones((2, 4), np.float32), "W")
    w.ClearField("raw_data")
    w.data_location = TensorProto.EXTERNAL
    for k, v in (("location", "w.bin\0x"), ("offset", "0"), ("length", "32")):
        e = w.external_data.add()
        e.key, e.value = k, v
    g = helper.make_graph([helper.make_node("Gemm", ["x", "W"], ["y"], transB=1)], "g", [_vi("x", ["N", 4])],
                          [_vi("y", ["N", 2])], initializer=[w])
    path = _save(tmp_path, helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))
    with pytest.raises(FormatError) as e:
        import_onnx(path)
    assert len(e.value.messages) == 1 and "tensor 'W'" in str(e.value) and "NUL" in str(e.value)
    assert str(path) in str(e.value)


@pytest.mark.parametrize("opset", [99, 6, 0])
def test_unsupported_opsets_are_refused_on_import(opset, tmp_path):
    from xnn.interop.onnx import max_opset

    path = _save(tmp_path, _cos([1, 2]) if opset >= 7 else _bias_model([], [numpy_helper.from_array(
        np.zeros((1, 2), np.float32), "c")], opset=opset))
    if opset == 99:
        m = onnx.load(str(path))
        m.opset_import[0].version = 99
        path.write_bytes(m.SerializeToString())
    with pytest.raises(FormatError, match=rf"opset {opset} is not supported; xnn imports ai.onnx opsets 7\.\.{max_opset()}"):
        import_onnx(path)


def test_unsupported_opsets_are_refused_on_export(tmp_path):
    from xnn.interop.onnx import export_onnx, export_via

    spec = from_dict({"input": {"shape": [4]}, "model": [{"type": "Dense", "units": 3}]})
    for fn, kw in ((export_onnx, {}), (export_via, {"via": "torch"}), (export_via, {"via": "keras"})):
        with pytest.raises(FormatError, match=r"opset 99: xnn writes opsets 13\.\."):
            fn(spec, init_params(spec), tmp_path / "m.onnx", opset=99, **kw)
    assert list(tmp_path.iterdir()) == []


def test_a_long_identity_chain_stays_linear(tmp_path):
    """30,000 Identity nodes between a rank-4 input and its Conv (the layout probe was quadratic)."""
    import time

    n = 30_000
    nodes = [helper.make_node("Identity", [f"t{i}" if i else "x"], [f"t{i + 1}"]) for i in range(n)]
    w = numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "W")
    nodes.append(helper.make_node("Conv", [f"t{n}", "W"], ["y"]))
    g = helper.make_graph(nodes, "g", [_vi("x", ["N", 1, 5, 5])], [_vi("y", ["N", 2, 3, 3])], initializer=[w])
    path = _save(tmp_path, helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))
    t = time.monotonic()
    sd, params = import_onnx(path)
    assert [n["type"] for n in sd["model"]] == ["Conv2D"] and sd["input"]["shape"] == [5, 5, 1]
    assert time.monotonic() - t < 60


def test_node_count_is_bounded_before_checking(tmp_path, monkeypatch):
    monkeypatch.setenv("XNN_LIMIT_MAX_ONNX_NODES", "10")
    nodes = [helper.make_node("Relu", [f"t{i}" if i else "x"], [f"t{i + 1}"]) for i in range(11)]
    nodes.append(helper.make_node("Gemm", ["t11", "W"], ["y"], transB=1))
    g = helper.make_graph(nodes, "g", [_vi("x", ["N", 4])], [_vi("y", ["N", 2])],
                          initializer=[numpy_helper.from_array(np.ones((2, 4), np.float32), "W")])
    path = _save(tmp_path, helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]))
    with pytest.raises(FormatError, match="more than 10 nodes"):
        import_onnx(path)
    monkeypatch.setenv("XNN_LIMIT_MAX_ONNX_NODES", "100")
    sd, _ = import_onnx(path)
    assert len(sd["model"]) == 12


# --------------------------------------------------------------------------- structure-aware fuzzing
def _folding_bytes() -> bytes:
    """A torch-style graph: a Reshape whose target comes from Shape -> Gather -> Unsqueeze -> Concat."""
    i64 = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
    nodes = [helper.make_node("Shape", ["x"], ["shp"]), helper.make_node("Gather", ["shp", "zero"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "ax"], ["n1"]), helper.make_node("Concat", ["n1", "minus1"], ["tgt"], axis=0),
             helper.make_node("Reshape", ["x", "tgt"], ["flat"]), helper.make_node("Gemm", ["flat", "W"], ["g"], transB=1),
             helper.make_node("ConstantOfShape", ["bs"], ["c"]), helper.make_node("Add", ["g", "c"], ["y"])]
    inits = [i64("zero", 0), i64("ax", [0]), i64("minus1", [-1]), i64("bs", [1, 3]),
             numpy_helper.from_array(np.linspace(-1, 1, 3 * 12, dtype=np.float32).reshape(3, 12), "W")]
    g = helper.make_graph(nodes, "fold", [_vi("x", ["N", 3, 4])], [_vi("y", ["N", 3])], initializer=inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


FOLDING = _folding_bytes()


def test_the_folding_model_imports():
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "f.onnx"
        p.write_bytes(FOLDING)
        sd, params = import_onnx(p)
    assert [n["type"] for n in sd["model"]] == ["Flatten", "Dense"]


def _import_or_format_error(tmp_path, data: bytes, name="fuzz.onnx"):
    path = tmp_path / name
    path.write_bytes(data)
    try:
        sd, params = import_onnx(path)
    except FormatError as e:
        assert str(path) in str(e)
        assert not any(w in str(e) for w in ("MemoryError", "RecursionError")), str(e)  # bounded, not survived
        return
    from_dict(sd)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), which=st.sampled_from(["conv", "folding"]))
def test_fuzzed_bytes_of_two_models_never_crash(tmp_path, data, which):
    """Byte flips, drops, inserted bytes and truncations of a conv model and of a constant-folding model."""
    b = bytearray(GOOD if which == "conv" else FOLDING)
    for _ in range(data.draw(st.integers(1, 8))):
        if not b:
            break
        i = data.draw(st.integers(0, len(b) - 1))
        op = data.draw(st.sampled_from(["flip", "set", "drop", "insert", "cut"]))
        if op == "flip":
            b[i] ^= 1 << data.draw(st.integers(0, 7))
        elif op == "set":
            b[i] = data.draw(st.sampled_from([0x00, 0x7F, 0x80, 0xFF]))
        elif op == "drop":
            del b[i]
        elif op == "insert":
            b[i:i] = data.draw(st.binary(min_size=1, max_size=4))
        else:
            del b[i:]
    _import_or_format_error(tmp_path, bytes(b))


_BIG = st.one_of(st.integers(-3, 8), st.sampled_from([0, 2**31, 2**40, 2**62, -(2**62)]))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzzed_fields_never_crash(tmp_path, data):
    """Structure-aware: random dims, opsets, int attributes and int64 constants (shapes, axes) in the
    folding model and the conv model; always an import or one FormatError naming the file."""
    m = onnx.ModelProto()
    m.ParseFromString(GOOD if data.draw(st.booleans()) else FOLDING)
    g = m.graph
    for _ in range(data.draw(st.integers(1, 4))):
        what = data.draw(st.sampled_from(["opset", "init_dims", "init_value", "attr", "input_dim", "op_type"]))
        if what == "opset":
            m.opset_import[0].version = data.draw(st.sampled_from([-1, 0, 6, 7, 12, 13, 28, 29, 99, 2**40]))
        elif what == "init_dims" and g.initializer:
            t = g.initializer[data.draw(st.integers(0, len(g.initializer) - 1))]
            if t.dims:
                t.dims[data.draw(st.integers(0, len(t.dims) - 1))] = data.draw(_BIG)
        elif what == "init_value":
            ints = [t for t in g.initializer if t.data_type == TensorProto.INT64]
            if ints:
                t = ints[data.draw(st.integers(0, len(ints) - 1))]
                try:  # an earlier step may have made its dims disagree with its data
                    arr = numpy_helper.to_array(t).copy()
                except ValueError:
                    continue
                flat = arr.reshape(-1)
                if flat.size:
                    flat[data.draw(st.integers(0, flat.size - 1))] = data.draw(_BIG)
                t.CopyFrom(numpy_helper.from_array(flat.reshape(arr.shape), t.name))
        elif what == "attr":
            attrs = [a for n in g.node for a in n.attribute if a.type in (onnx.AttributeProto.INT, onnx.AttributeProto.INTS)]
            if attrs:
                a = attrs[data.draw(st.integers(0, len(attrs) - 1))]
                if a.type == onnx.AttributeProto.INT:
                    a.i = data.draw(_BIG)
                elif a.ints:
                    a.ints[data.draw(st.integers(0, len(a.ints) - 1))] = data.draw(_BIG)
        elif what == "input_dim":
            dims = g.input[0].type.tensor_type.shape.dim
            dims[data.draw(st.integers(1, len(dims) - 1))].dim_value = data.draw(_BIG)
        elif what == "op_type" and g.node:
            n = g.node[data.draw(st.integers(0, len(g.node) - 1))]
            n.op_type = data.draw(st.sampled_from(["Tile", "Expand", "Range", "If", "Loop", "ConstantOfShape",
                                                   "Concat", "Gather", "Reshape", "Identity", "Mul", "Where"]))
    _import_or_format_error(tmp_path, m.SerializeToString())
