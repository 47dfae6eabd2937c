"""``--via torch|keras``: the frameworks' own exporters give the same outputs as xnn's export,
one case per layer kind."""
from __future__ import annotations

import pytest

from tests.parity.harness import all_cases, assert_close, case_input, case_spec
from xnn.init import init_params
from xnn.interop.onnx import export_onnx, export_via

from ._onnx_util import EXPECTED_MISSING, as_input, ort_run

ONE_PER_KIND = {}
for _k, _c, _id in all_cases():
    if _k not in EXPECTED_MISSING and _k not in ONE_PER_KIND:
        ONE_PER_KIND[_k] = (_k, _c, _id)
CASES = list(ONE_PER_KIND.values())


@pytest.mark.slow
@pytest.mark.parametrize("via", ["torch", "keras"])
@pytest.mark.parametrize("kind,case,cid", CASES, ids=[c[2] for c in CASES])
def test_via_matches_xnn_export(kind, case, cid, via, tmp_path):
    if via == "keras":
        pytest.importorskip("tf2onnx", reason="Keras's ONNX export on TensorFlow needs tf2onnx")
    else:
        pytest.importorskip("torch")
    spec = case_spec(kind, case, "float32")
    params = init_params(spec, seed=6)
    x = as_input(case_input(spec, case))
    ours = ort_run(export_onnx(spec, params, tmp_path / "xnn.onnx"), x)
    theirs = ort_run(export_via(spec, params, tmp_path / f"{via}.onnx", via), x)
    assert_close(theirs, ours, "float32", f"{via} export vs xnn export")
