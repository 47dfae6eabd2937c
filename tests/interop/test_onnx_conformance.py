"""ONNX's own backend node tests against the importer (``xnn.interop.onnx.importer.conformance``).

The onnx wheel ships the test generators, not their data folders, so the cases are generated
in-process (about 20 s, most of it onnx's Python pooling reference), restricted to single-node
float tests of the ops the importer has a handler for. Extra inputs become initializers (as a
model file holds its weights). Every case must either import and reproduce the expected output
at rtol/atol 1e-5 or be refused with a one-line FormatError naming the node or input: no wrong
result, no other exception. docs/onnx.md's per-op table is generated from the same run.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from xnn.interop.onnx.importer import conformance as C

ROOT = Path(__file__).resolve().parents[2]

# the ops the suite must cover (the registry decides the rest): a handler dropping out of the
# scope, or onnx renaming a test module, shows here
MUST_COVER = ["Conv", "ConvTranspose", "AveragePool", "MaxPool", "GlobalAveragePool", "GlobalMaxPool", "Gemm",
              "MatMul", "BatchNormalization", "InstanceNormalization", "GroupNormalization", "LayerNormalization",
              "LRN", "Relu", "LeakyRelu", "Elu", "Sigmoid", "Tanh", "HardSigmoid", "HardSwish", "Gelu", "Softmax",
              "Add", "Sub", "Mul", "Div", "Sum", "Concat", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze",
              "Resize", "Upsample", "Pad", "Slice", "Clip", "Dropout", "LSTM", "GRU"]

# cases that import and match (each was refused or wrong at some point)
MUST_PASS = ["test_maxpool_2d_same_lower", "test_maxpool_2d_pads", "test_maxpool_2d_ceil",
             "test_maxpool_2d_ceil_output_size_reduce_by_one", "test_averagepool_2d_same_lower",
             "test_averagepool_2d_pads", "test_averagepool_2d_pads_count_include_pad", "test_averagepool_2d_ceil",
             "test_averagepool_2d_ceil_last_window_starts_on_pad", "test_averagepool_2d_precomputed_same_upper",
             "test_add_bcast", "test_sub_bcast", "test_mul_bcast", "test_div_bcast", "test_gemm_default_single_elem_vector_bias",
             "test_conv_with_strides_and_asymmetric_padding", "test_globalaveragepool", "test_lrn"]


@pytest.fixture(scope="module")
def results() -> list[C.Result]:
    return C.run_all()


def test_no_wrong_result_and_no_crash(results):
    bad = [f"{r.status}: {r.case.name} (opset {r.case.opset}): {r.detail}" for r in results
           if r.status not in ("pass", "refused")]
    assert not bad, "\n".join(bad)


def test_scope(results):
    have = {r.case.op for r in results}
    assert not [op for op in MUST_COVER if op not in have], sorted(have)
    assert len(results) >= 300
    status = {r.case.name: r.status for r in results}
    assert not [n for n in MUST_PASS if status.get(n) != "pass"], {n: status.get(n) for n in MUST_PASS}


def test_refusals_are_one_line_and_name_the_node(results):
    for r in results:
        if r.status != "refused":
            continue
        d = r.detail
        assert "\n" not in d and "Traceback" not in d and "node ''" not in d, (r.case.name, d)
        assert d.startswith("model.onnx"), (r.case.name, d)
        where = d[len("model.onnx: "):]
        assert where.startswith(("node #0 (", "input ", "the graph output")), (r.case.name, d)
        assert not any(e in d for e in ("ValueError", "TypeError", "KeyError", "IndexError", "broadcast shapes")), \
            (r.case.name, d)


def test_known_refusals(results):
    """What xnn has no layer for is refused, naming why (a sample)."""
    status = {r.case.name: r for r in results}
    for name, why in [("test_gemm_default_matrix_bias", "is not one bias per unit"),
                      ("test_gemm_transposeA", "transA=1"),
                      ("test_averagepool_2d_dilations", "dilated pooling"),
                      ("test_maxpool_3d_default", "3-D pooling"),
                      ("test_mul", "varies along the batch axis"),
                      ("test_layer_normalization_4d_axis1[0]", "last axis")]:
        r = status[name]
        assert r.status == "refused" and why in r.detail, (name, r.status, r.detail)


def test_passing_cases_run_on_torch(results):
    """The imported passing cases give the same result through the torch backend (float64):
    the padding layers, count corrections and views the importer builds are lowered correctly."""
    import tempfile

    from xnn.backends import get
    from xnn.interop.onnx.importer import import_onnx_full, to_onnx_output, to_xnn_input
    from xnn.spec import from_dict

    tb = get("torch")
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in results:
            if r.status != "pass":
                continue
            path = Path(tmp) / "m.onnx"
            path.write_bytes(r.case.model.SerializeToString())
            sd, params, info = import_onnx_full(path)
            spec = from_dict(sd)
            y = tb.predict(tb.build(spec, params, dtype="float64"), to_xnn_input(r.case.x, info).astype(np.float64))
            got = to_onnx_output(np.asarray(y), info)
            ref = r.case.want if C.close(got, np.asarray(r.case.want, np.float64)) else None
            if ref is None and not r.detail:  # a pass against the expected output must hold on torch too
                bad.append(f"{r.case.name}: max abs diff {float(np.max(np.abs(got - r.case.want))):.3e}")
    assert not bad, "\n".join(bad)


def test_doc_table_is_current(results):
    import onnx

    doc = ROOT / "docs" / "onnx.md"
    version = C.doc_version(doc)
    if version != onnx.__version__:
        pytest.skip(f"docs/onnx.md's table was generated with onnx {version}; this is onnx {onnx.__version__}")
    text = doc.read_text()
    table = text[text.index(C.TABLE_BEGIN) + len(C.TABLE_BEGIN) + 1:text.index(C.TABLE_END)]
    assert table == C.render_table(results), "docs/onnx.md: run python -m xnn.interop.onnx.importer.conformance"
