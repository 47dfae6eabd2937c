"""export_mat -> import_mat is exact for every layer case (v7 and v7.3, float64 and float32), the
MATLAB layouts are the documented ones (tests/spec/test_layer_files.py checks every kind has its files)."""
from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from scipy.io import loadmat

from tests.parity.harness import all_cases, case_input, case_spec
from xnn.init import init_params
from xnn.interop.mat import export_mat, import_mat, layouts
from xnn.spec import from_dict, layers

ROOT = Path(__file__).resolve().parents[2]
CASES = all_cases()


@pytest.mark.parametrize("kind,case,cid", CASES, ids=[c[2] for c in CASES])
@pytest.mark.parametrize("dtype,version", [("float64", "7"), ("float32", "7"), ("float32", "7.3")])
def test_roundtrip_exact(tmp_path, kind, case, cid, dtype, version):
    spec = case_spec(kind, case, dtype=dtype)
    params = _mat_split(spec, {k: v.astype(dtype) for k, v in init_params(spec, seed=7).items()})
    path = tmp_path / "m.mat"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the v7.3 warning about Octave
        export_mat(spec, params, path, version=version, compress=dtype == "float32",
                   ref_input=case_input(spec, case))
    spec_dict, back = import_mat(path)
    assert spec_dict == spec.raw
    assert from_dict(spec_dict).hash() == spec.hash()
    assert set(back) == set(params)
    for k, v in params.items():
        assert back[k].dtype == np.dtype(dtype), k
        np.testing.assert_array_equal(back[k], v, err_msg=k)


def _mat_split(spec, params: dict) -> dict:
    """LSTM: lstmLayer has one bias, so the .mat holds bias_ih + bias_hh and reads it back as
    bias_ih with bias_hh = 0; weights already in that split round-trip exactly."""
    out = dict(params)
    for n in spec.nodes:
        if n.kind == "LSTM":
            for k in [k for k in n.params if k.startswith("bias_hh_")]:
                ih, hh = f"{n.name}.{k.replace('bias_hh_', 'bias_ih_')}", f"{n.name}.{k}"
                out[ih], out[hh] = params[ih] + params[hh], np.zeros_like(params[hh])
    return out


def test_lstm_mat_holds_the_bias_sum(tmp_path):
    """A .mat holds one LSTM bias (MATLAB's): bias_ih + bias_hh, read back as bias_ih (bias_hh = 0),
    the same function."""
    from xnn.reference import forward

    spec = from_dict({"input": {"shape": [5, 3]}, "model": [{"type": "LSTM", "units": 4, "name": "l",
                                                              "bidirectional": True}],
                      "train": {"dtype": "float64"}})
    params = init_params(spec, seed=2)
    export_mat(spec, params, tmp_path / "m.mat")
    _, back = import_mat(tmp_path / "m.mat")
    for s in ("l0", "l0_reverse"):
        np.testing.assert_array_equal(back[f"l.bias_ih_{s}"], params[f"l.bias_ih_{s}"] + params[f"l.bias_hh_{s}"])
        assert not back[f"l.bias_hh_{s}"].any()
    x = np.random.default_rng(0).normal(size=(2, 5, 3))
    np.testing.assert_allclose(forward(spec, back, x), forward(spec, params, x), rtol=1e-13, atol=1e-14)


def _vars(path):
    return loadmat(str(path), squeeze_me=False, struct_as_record=False)


def test_documented_layouts(tmp_path):
    """Weights land in MATLAB's layouts with the subscripts docs/mat-format.md gives."""
    spec = from_dict({"input": {"shape": [6, 5, 4]}, "model": [
        {"type": "Conv2D", "filters": 4, "kernel_size": [3, 2], "name": "c"},
        {"type": "Conv2D", "filters": 6, "kernel_size": 2, "groups": 2, "name": "g"},
        {"type": "BatchNorm", "name": "bn"},
        {"type": "Flatten", "name": "fl"},
        {"type": "Dense", "units": 2, "name": "fc"}], "train": {"loss": "mse", "metrics": [], "dtype": "float64"}})
    p = init_params(spec, seed=3)
    path = export_mat(spec, p, tmp_path / "l.mat")
    v = _vars(path)
    L = [v["layers"][i, 0][0, 0] for i in range(v["layers"].shape[0])]  # cell of 1x1 structs
    w = {x.name[0]: x.weights[0, 0] for x in L}
    Wc = w["c"].Weights
    assert Wc.shape == (3, 2, 4, 4)  # h x w x C x F
    assert Wc[2, 1, 3, 0] == p["c.weight"][0, 3, 2, 1]
    assert w["c"].Bias.shape == (1, 1, 4)
    Wg = w["g"].Weights  # groups 2: h x w x Cg x Fg x G, output channel = g*Fg + f
    assert Wg.shape == (2, 2, 2, 3, 2)
    assert Wg[1, 0, 1, 2, 1] == p["g.weight"][1 * 3 + 2, 1, 1, 0]
    assert w["g"].Bias.shape == (1, 1, 3, 2) and w["g"].Bias[0, 0, 2, 1] == p["g.bias"][5]
    assert w["bn"].Scale.shape == (1, 1, 6) and w["bn"].TrainedVariance.shape == (1, 1, 6)
    # Dense after Flatten: MATLAB column j = h + H*w + H*W*c (column-major flatten)
    H, W, C = spec.node_map["fl"].in_shapes[0]
    Wm = w["fc"].Weights
    assert Wm.shape == (2, H * W * C) and w["fc"].Bias.shape == (2, 1)
    h, ww, c = 2, 1, 3
    assert Wm[1, h + H * ww + H * W * c] == p["fc.weight"][1, h * W * C + ww * C + c]
    assert json.loads(L[3].export_json[0]) == {"order": "column"}
    # reference data in dlarray order: H x W x C x N
    assert v["ref_input_format"][0] == "SSCB" and v["ref_input"].shape == (6, 5, 4, 4)
    assert v["ref_output_format"][0] == "CB" and v["ref_output"].shape == (2, 4)


def test_formats_and_orders():
    sig = from_dict({"input": {"shape": [9, 2]}, "model": [{"type": "Conv1D", "filters": 2, "kernel_size": 3}]})
    seq = from_dict({"input": {"shape": [5, 3]}, "model": [{"type": "Dense", "units": 2}]})
    ids = from_dict({"input": {"shape": [7], "dtype": "int64"},
                     "model": [{"type": "Embedding", "num_embeddings": 5, "dim": 3}]})
    assert layouts.build_context(sig).formats["input"] == "SCB"
    assert layouts.build_context(seq).formats["input"] == "CBT"
    assert layouts.build_context(ids).formats["input"] == "CBT"  # 1 x N x T indices
    x = np.arange(2 * 5 * 3).reshape(2, 5, 3)
    for fmt in ("CBT", "SCB"):
        np.testing.assert_array_equal(layouts.from_dlarray_order(layouts.to_dlarray_order(x, fmt), fmt), x)
    assert layouts.to_dlarray_order(x, "CBT")[2, 1, 4] == x[1, 4, 2]
    # a Flatten that is the output keeps xnn's row-major order
    out_flat = from_dict({"input": {"shape": [3, 2, 2]}, "model": [{"type": "Flatten"}]})
    assert layouts.build_context(out_flat).flatten_order["flatten1"] == "row"


def test_default_reference_is_reproducible(tmp_path):
    spec = from_dict({"input": {"shape": [4]}, "model": [{"type": "Dense", "units": 2}]})
    p = init_params(spec)
    a = _vars(export_mat(spec, p, tmp_path / "a.mat", n_ref=3, seed=5))
    b = _vars(export_mat(spec, p, tmp_path / "b.mat", n_ref=3, seed=5))
    np.testing.assert_array_equal(a["ref_input"], b["ref_input"])
    assert a["ref_input"].shape == (4, 3) and a["ref_input"].dtype == np.float32  # model dtype
    assert int(a["xnn_format"][0, 0]) == 1 and a["dtype"][0] == "float32"


def test_v73_warns(tmp_path):
    spec = from_dict({"input": {"shape": [4]}, "model": [{"type": "Dense", "units": 2}]})
    with pytest.warns(UserWarning, match="Octave cannot read"):
        export_mat(spec, init_params(spec), tmp_path / "a.mat", version="7.3")
    assert (tmp_path / "a.mat").read_bytes()[:19] == b"MATLAB 7.3 MAT-file"


def test_no_framework_import():
    import subprocess
    import sys

    code = ("import sys, xnn.interop.mat as m; assert m.export_mat and m.import_mat; "
            "bad = [k for k in ('torch', 'tensorflow', 'keras') if k in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
