"""xnn's own ONNX export: every registered layer case in ONNX Runtime vs the NumPy reference."""
from __future__ import annotations

import numpy as np
import onnx
import pytest

from tests.parity.harness import all_cases, assert_close, case_input, case_spec
from xnn.errors import FormatError
from xnn.init import init_params
from xnn.interop.onnx import build_model, default_opset, export_onnx, max_opset
from xnn.interop.onnx.mapping import mappings
from xnn.reference import forward
from xnn.spec import layers

from ._onnx_util import EXPECTED_MISSING, as_input, ort_run

CASES = all_cases()
IDS = [c[2] for c in CASES]


def _check(spec, params, opset):
    model = build_model(spec, params, opset)
    onnx.checker.check_model(model, full_check=True)
    onnx.shape_inference.infer_shapes(model, strict_mode=True)
    return model


@pytest.mark.parametrize("kind,case,cid", CASES, ids=IDS)
def test_every_case_matches_reference_default_opset(kind, case, cid, tmp_path):
    spec = case_spec(kind, case, "float32")
    params = init_params(spec, seed=1)
    if kind in EXPECTED_MISSING:
        with pytest.raises(FormatError, match="no ONNX mapping"):
            build_model(spec, params)
        pytest.xfail(EXPECTED_MISSING[kind])
    x = case_input(spec, case)
    path = export_onnx(spec, params, tmp_path / "m.onnx")
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    onnx.shape_inference.infer_shapes(model, strict_mode=True)
    assert [i.name for i in model.graph.input] == ["input"] and [o.name for o in model.graph.output] == ["output"]
    assert model.opset_import[0].version == default_opset()
    y = ort_run(path, as_input(x))
    assert_close(y, forward(spec, params, x), "float32", f"{cid}: onnxruntime vs numpy")


OPSET_KINDS = ("Conv2D", "Conv1D", "Activation", "LayerNorm", "AvgPool2D", "MaxPool1D", "BatchNorm",
               "GlobalAvgPool2D", "Dense", "Concatenate", "Reshape")


@pytest.mark.parametrize("opset", sorted({13, 17, 20, max_opset()}))
@pytest.mark.parametrize("kind,case,cid", [c for c in CASES if c[0] in OPSET_KINDS],
                         ids=[c[2] for c in CASES if c[0] in OPSET_KINDS])
def test_cases_at_several_opsets(kind, case, cid, opset):
    spec = case_spec(kind, case, "float32")
    params = init_params(spec, seed=2)
    x = case_input(spec, case)
    model = _check(spec, params, opset)
    assert model.opset_import[0].version == opset
    assert_close(ort_run(model, as_input(x)), forward(spec, params, x), "float32", f"{cid}@{opset}")


def test_decompositions_below_native_ops():
    """gelu before opset 20 -> Erf formula; LayerNormalization before 17 -> ReduceMean formula."""
    spec = case_spec("Activation", [c for c in CASES if c[2] == "Activation-gelu"][0][1], "float32")
    ops13 = {n.op_type for n in build_model(spec, init_params(spec), 13).graph.node}
    ops20 = {n.op_type for n in build_model(spec, init_params(spec), 20).graph.node}
    assert "Erf" in ops13 and "Gelu" not in ops13 and "Gelu" in ops20
    ln = case_spec("LayerNorm", [c for c in CASES if c[0] == "LayerNorm"][0][1], "float32")
    assert "LayerNormalization" not in {n.op_type for n in build_model(ln, init_params(ln), 16).graph.node}
    assert "LayerNormalization" in {n.op_type for n in build_model(ln, init_params(ln), 17).graph.node}


def test_avg_pool_same_excludes_pads_in_onnxruntime():
    from xnn.spec import from_dict

    spec = from_dict({"input": {"shape": [5, 7, 2]},
                      "model": [{"type": "AvgPool2D", "pool_size": 3, "strides": 2, "padding": "same"}]})
    model = _check(spec, {}, None)
    pool = [n for n in model.graph.node if n.op_type == "AveragePool"][0]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in pool.attribute}
    assert attrs["count_include_pad"] == 0 and attrs["pads"] == [1, 1, 1, 1]
    x = np.ones((2, 5, 7, 2), np.float32)
    np.testing.assert_allclose(ort_run(model, x), 1.0, rtol=0, atol=1e-6)  # pads counted would give < 1


def test_layout_transposes_only_at_boundaries():
    from xnn.spec import from_dict

    spec = from_dict({"input": {"shape": [8, 8, 3]}, "model": [
        {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same"}, "relu",
        {"type": "BatchNorm"}, {"type": "MaxPool2D"}, "Flatten", {"type": "Dense", "units": 3}]})
    model = _check(spec, init_params(spec), None)
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("Transpose") == 2, ops  # into NCHW at the input, back to NHWC before Flatten
    x = np.random.default_rng(0).normal(size=(2, 8, 8, 3))
    assert_close(ort_run(model, x.astype(np.float32)), forward(spec, init_params(spec), x), "float32", "cnn")


def test_metadata_and_dynamic_batch(tmp_path):
    import json

    import xnn

    spec = case_spec("Dense", [c for c in CASES if c[0] == "Dense"][0][1], "float32")
    model = onnx.load(str(export_onnx(spec, init_params(spec), tmp_path / "m.onnx")))
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["xnn_version"] == xnn.__version__ and json.loads(meta["xnn_spec"]) == spec.raw
    assert model.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "N"
    for n in (1, 7):
        x = np.random.default_rng(n).normal(size=(n, *spec.input_shape))
        assert ort_run(model, x.astype(np.float32)).shape == (n, *spec.output.out_shape)


def test_bad_opset_and_unsupported_listed_at_once():
    spec = case_spec("Dense", [c for c in CASES if c[0] == "Dense"][0][1], "float32")
    with pytest.raises(FormatError, match="opset 12"):
        build_model(spec, init_params(spec), 12)
    with pytest.raises(FormatError, match=f"opset {max_opset() + 1}"):
        build_model(spec, init_params(spec), max_opset() + 1)
    masked = [c for c in CASES if c[0] == "MaskedGlobalAvgPool1D"]
    if masked and {"SequenceMask", "MaskedGlobalAvgPool1D"} <= set(EXPECTED_MISSING):
        s = case_spec("MaskedGlobalAvgPool1D", masked[0][1], "float32")  # two unmapped nodes in one graph
        with pytest.raises(FormatError) as e:
            build_model(s, init_params(s))
        assert "mask (SequenceMask)" in str(e.value) and "node (MaskedGlobalAvgPool1D)" in str(e.value)


def test_every_layer_has_an_onnx_mapping_or_a_reason():
    maps = mappings()
    missing = sorted(k for k, cls in layers().items()  # composites are replaced by their parts
                     if k not in maps and k not in EXPECTED_MISSING and not hasattr(cls, "expand"))
    assert not missing, f"layers without an ONNX mapping: {missing}"
    stale = sorted(k for k in EXPECTED_MISSING if k in maps)
    assert not stale, f"remove from EXPECTED_MISSING (mapped now): {stale}"


def test_default_opset_is_supported_by_onnxruntime():
    from xnn.interop.onnx.export import runtime_opset

    rt = runtime_opset()
    assert 13 <= default_opset() <= max_opset()
    if rt is not None:  # 17 (the widest set of consumers), within what onnxruntime runs
        assert default_opset() == min(17, max_opset(), rt)


EXAMPLE_SPECS = sorted((__import__("pathlib").Path(__file__).resolve().parents[2] / "examples").glob("**/*.yaml"))


@pytest.mark.parametrize("example", EXAMPLE_SPECS, ids=[p.stem for p in EXAMPLE_SPECS])
def test_every_example_in_onnxruntime_at_every_opset(example):
    """Each example and zoo spec, exported at every opset from 13 to the newest, runs in ONNX
    Runtime and computes xnn's NumPy reference (float32 tolerance)."""
    from xnn.spec import load_spec

    spec = load_spec(example)
    params = init_params(spec, seed=5)
    rng = np.random.default_rng(0)
    if spec.input.dtype.startswith("int"):
        x = rng.integers(1, 5, size=(2, *spec.input_shape)).astype(spec.input.dtype)
    else:
        x = rng.normal(size=(2, *spec.input_shape))
    want = forward(spec, {k: v.astype(np.float32).astype(np.float64) for k, v in params.items()}, x)
    for opset in range(13, max_opset() + 1):
        model = build_model(spec, params, opset)
        assert model.opset_import[0].version == opset
        got = ort_run(model, as_input(x, spec.input.dtype if spec.input.dtype.startswith("int") else "float32"))
        assert_close(got, want, "float32", f"{example.stem} at opset {opset}")
