"""The spatial layers (ConvTranspose, UpSampling, ZeroPadding, Cropping, GlobalMaxPool) inside
mixed-layout graphs, where torch and ONNX run them channels-first between convolutions: NumPy,
torch, Keras, ONNX Runtime and the plain-M forward agree; torch and Keras gradients agree; the
MAC count is torch's; the Keras custom layers survive save/load; the shape rules refuse what
no framework computes, naming the field."""
from __future__ import annotations

import shutil

import numpy as np
import pytest

from xnn.cases import all_cases, case_input, case_spec
from xnn.errors import SpecError
from xnn.init import init_params
from xnn.reference import forward
from xnn.spec import from_dict

from .harness import GRAD_RTOL, assert_close, keras_grads, torch_grads

_TRAIN = {"loss": "mse", "metrics": [], "dtype": "float64"}
GRAPHS = {
    "image": {"input": {"shape": [5, 6, 3]}, "model": [
        {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same", "name": "c1"},
        {"type": "ZeroPadding2D", "padding": [[1, 0], [2, 1]], "name": "zp"},
        {"type": "ConvTranspose2D", "filters": 3, "kernel_size": 3, "strides": 2, "padding": "same", "name": "ct"},
        {"type": "Cropping2D", "cropping": [[1, 2], [0, 3]], "name": "cr"},
        {"type": "UpSampling2D", "size": [2, 3], "interpolation": "bilinear", "name": "up"},
        {"type": "Conv2D", "filters": 2, "kernel_size": 2, "name": "c2"},
        {"type": "UpSampling2D", "name": "up2"},
        {"type": "ConvTranspose2D", "filters": 3, "kernel_size": 2, "strides": 3, "padding": 1, "output_padding": 2,
         "dilation": 2, "name": "ct2"},
        {"type": "GlobalMaxPool2D", "name": "gmp"},
        {"type": "Dense", "units": 2, "name": "fc"}], "train": _TRAIN},
    "signal": {"input": {"shape": [7, 2]}, "model": [
        {"type": "Conv1D", "filters": 3, "kernel_size": 3, "name": "c1"},
        {"type": "ZeroPadding1D", "padding": [0, 2], "name": "zp"},
        {"type": "ConvTranspose1D", "filters": 4, "kernel_size": 4, "strides": 2, "groups": 1, "name": "ct"},
        {"type": "Cropping1D", "cropping": [3, 1], "name": "cr"},
        {"type": "UpSampling1D", "size": 3, "name": "up"},
        {"type": "ConvTranspose1D", "filters": 2, "kernel_size": 3, "strides": 2, "padding": "same", "groups": 2,
         "name": "ct2"},
        {"type": "GlobalMaxPool1D", "name": "gmp"},
        {"type": "Dense", "units": 3, "name": "fc"}], "train": _TRAIN},
    "branches": {"input": {"shape": [4, 4, 2]}, "model": [
        {"type": "Conv2D", "filters": 3, "kernel_size": 1, "name": "c1"},
        {"type": "UpSampling2D", "name": "up", "inputs": ["c1"]},
        {"type": "ConvTranspose2D", "filters": 3, "kernel_size": 2, "strides": 2, "name": "ct", "inputs": ["c1"]},
        {"type": "Add", "name": "add", "inputs": ["up", "ct"]},
        {"type": "Cropping2D", "cropping": 1, "name": "cr"},
        {"type": "ZeroPadding2D", "padding": 2, "name": "zp"}], "train": _TRAIN},
}


def _x(spec, seed=0, n=3):
    return np.random.default_rng(seed).normal(size=(n, *spec.input_shape))


@pytest.mark.parametrize("which", list(GRAPHS))
def test_graph_forward_and_gradients(which):
    from xnn.backends import get

    spec = from_dict(GRAPHS[which])
    params = init_params(spec, seed=2)
    x = _x(spec)
    ref = forward(spec, params, x)
    for dtype in ("float64", "float32"):
        xs = x.astype(dtype)
        for be in ("torch", "keras"):
            y = get(be).predict(get(be).build(spec, params, dtype=dtype), xs)
            assert_close(y, ref, dtype, f"{which}: {be} {dtype} vs numpy")
    r = np.random.default_rng(5).normal(size=ref.shape)
    gt, gxt = torch_grads(spec, params, x, r)
    gk, gxk = keras_grads(spec, params, x, r)
    assert set(gt) == set(gk) == {k for k, p in params.items()}
    for k in gt:
        np.testing.assert_allclose(gt[k], gk[k], rtol=GRAD_RTOL, atol=1e-12, err_msg=k)
    np.testing.assert_allclose(gxt, gxk, rtol=GRAD_RTOL, atol=1e-12)


@pytest.mark.parametrize("which", list(GRAPHS))
def test_graph_onnx_runtime(which, tmp_path):
    import onnx

    from xnn.interop.onnx import build_model, import_onnx, run_onnx

    spec = from_dict(GRAPHS[which])
    params = init_params(spec, seed=2)
    x = _x(spec)
    model = build_model(spec, params)
    assert_close(run_onnx(model, x), forward(spec, params, x), "float32", f"{which}: onnxruntime")
    ops = [n.op_type for n in model.graph.node]
    if which == "image":  # pad/crop/resize stay channels-first between the convolutions: one Transpose in
        assert ops.count("Transpose") == 1, ops
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    sd, back = import_onnx(path)
    x32 = {k: v.astype(np.float32).astype(np.float64) for k, v in params.items()}
    np.testing.assert_allclose(forward(from_dict(sd), back, x), forward(spec, x32, x), rtol=1e-10, atol=1e-10)


@pytest.mark.skipif(shutil.which("octave-cli") is None, reason="GNU Octave (octave-cli) is not installed")
def test_graph_octave(tmp_path):
    from tests.interop.test_mat_octave import MATLAB_DIR, RUNNER, TIGHT_REL, run_octave
    from xnn.interop.mat import export_mat

    jobs = []
    for which, raw in GRAPHS.items():
        spec = from_dict(raw)
        path = tmp_path / f"{which}.mat"
        export_mat(spec, init_params(spec, seed=2), path, ref_input=_x(spec))
        jobs.append((which, path))
    manifest = tmp_path / "manifest.tsv"
    manifest.write_text("".join(f"{i}\t{p}\n" for i, p in jobs))
    out = run_octave(RUNNER.replace("@MATLAB@", str(MATLAB_DIR)).replace("@MANIFEST@", str(manifest)), tmp_path)
    res = {line.split("\t")[1]: line.split("\t")[2:] for line in out.splitlines() if line.startswith("XNNRESULT\t")}
    for which, _ in jobs:
        r = res.get(which)
        assert r is not None and r[0] == "1" and float(r[2]) <= TIGHT_REL, (which, r)


CT = [c for c in all_cases() if c[0].startswith("ConvTranspose")]


@pytest.mark.parametrize("kind,case,cid", CT, ids=[c[2] for c in CT])
def test_conv_transpose_macs_match_torch_flop_counter(kind, case, cid):
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from xnn.backends import torch as tb

    spec = case_spec(kind, case)
    (n,) = spec.nodes
    ours = n.layer.macs(list(n.in_shapes), tuple(n.out_shape))
    m = tb.build(spec, init_params(spec, seed=0), dtype="float64")
    m.eval()
    x = case_input(spec, case, n=2)
    with FlopCounterMode(display=False) as fc, torch.no_grad():
        m(torch.tensor(x))
    assert ours > 0 and ours == fc.get_total_flops() // (2 * len(x))


def test_keras_custom_layers_save_and_load(tmp_path):
    import keras

    from xnn.backends import get

    spec = from_dict(GRAPHS["image"])
    params = init_params(spec, seed=2)
    model = get("keras").build(spec, params, dtype="float64")
    kinds = {type(layer).__name__ for layer in model.layers}
    assert {"XnnUpSampling2D", "XnnConvTranspose", "Conv2DTranspose", "UpSampling2D"} <= kinds, kinds
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    x = _x(spec)
    np.testing.assert_array_equal(np.asarray(again(x)), np.asarray(model(x)))


@pytest.mark.parametrize("layer,shape,field", [
    ({"type": "ConvTranspose2D", "filters": 2, "kernel_size": 3, "strides": 2, "output_padding": 2}, [4, 4, 1],
     "output_padding"),
    ({"type": "ConvTranspose2D", "filters": 2, "kernel_size": 3, "strides": 2, "padding": "same", "output_padding": 1},
     [4, 4, 1], "output_padding"),
    ({"type": "ConvTranspose1D", "filters": 2, "kernel_size": 2, "padding": 3}, [2, 1], "padding"),
    ({"type": "ConvTranspose1D", "filters": 3, "kernel_size": 2, "groups": 2}, [4, 2], "filters"),
    ({"type": "ConvTranspose2D", "filters": 2, "kernel_size": [2, 2, 2]}, [4, 4, 1], "kernel_size"),
    ({"type": "Cropping2D", "cropping": [[2, 2], [0, 0]]}, [4, 4, 1], "cropping"),
    ({"type": "Cropping1D", "cropping": [1, 2, 3]}, [9, 1], "cropping"),
    ({"type": "ZeroPadding2D", "padding": [1, 2, 3]}, [4, 4, 1], "padding"),
    ({"type": "UpSampling2D", "size": [2, 2, 2]}, [4, 4, 1], "size"),
    ({"type": "GlobalMaxPool2D"}, [4, 1], "model[0]"),
], ids=["outpad_ge_stride", "same_outpad", "pad_eats_output", "groups_filters", "kernel_rank", "crop_all",
        "crop_three", "pad_three", "size_three", "gmp_rank"])
def test_shape_errors_name_the_field(layer, shape, field):
    with pytest.raises(SpecError) as e:
        from_dict({"input": {"shape": shape}, "model": [layer]})
    assert f"model[0].{field}" in str(e.value) or field in str(e.value), str(e.value)
