"""ONNX import: round trips of xnn's own files, torch.onnx-written models, a MATLAB-style
opset-8 graph, and one error listing every unsupported operator."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.parity.harness import all_cases, assert_close, case_input, case_spec
from xnn.errors import FormatError
from xnn.init import init_params
from xnn.interop.onnx import export_onnx, import_onnx, max_opset
from xnn.interop.onnx.importer import import_onnx_full
from xnn.reference import forward
from xnn.spec import from_dict

from ._onnx_util import EXPECTED_IMPORT_MISSING, EXPECTED_MISSING, RNN_IMPORT_MISSING_CASES, ort_run

CASES = [c for c in all_cases() if c[0] not in EXPECTED_MISSING]


@pytest.mark.parametrize("kind,case,cid", CASES, ids=[c[2] for c in CASES])
def test_roundtrip_same_weights_and_outputs(kind, case, cid, tmp_path):
    """Every exported case comes back: through its graph, or (the layers whose ONNX form does not
    read back as a layer: EXPECTED_IMPORT_MISSING, RNN_IMPORT_MISSING_CASES) as the file's stored
    spec, which the import checks against the graph (importer/restore.py)."""
    spec = case_spec(kind, case, "float32")
    params = init_params(spec, seed=4)
    path = export_onnx(spec, params, tmp_path / "m.onnx")  # the default opset (gelu as its Erf formula)
    sd, back, info = import_onnx_full(path)
    by_graph = kind not in EXPECTED_IMPORT_MISSING and cid not in RNN_IMPORT_MISSING_CASES
    restored = "model" in info["restored"]
    assert not (by_graph and restored), info["restored"]
    spec2 = from_dict(sd)
    x = case_input(spec, case)
    f32 = {k: v.astype(np.float32).astype(np.float64) for k, v in params.items()}
    if not by_graph and not restored:  # read back as other layers of the same function (a
        # PositionalEmbedding's Add of its table as a Scale, the sinusoidal table as the float32
        # constant the file holds): the import computes what the file does
        assert kind == "PositionalEmbedding", [n.kind for n in spec2.nodes]
        want = ort_run(path, x.astype(np.float32))
        assert_close(forward(spec2, back, x), want, "float32", cid)
        return
    assert spec2.input_shape == spec.input_shape and [n.kind for n in spec2.nodes] == [n.kind for n in spec.nodes]
    assert set(back) == set(params)
    for k in params:  # float32 in the file: exactly the float32 values of the originals
        np.testing.assert_array_equal(back[k], params[k].astype(np.float32), err_msg=k)
    np.testing.assert_allclose(forward(spec2, back, x), forward(spec, f32, x), rtol=1e-12, atol=1e-12)


def _torch_models():
    import torch
    from torch import nn

    torch.manual_seed(0)
    cnn = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(6, 4, 3, stride=2), nn.LeakyReLU(0.1), nn.Flatten(), nn.Linear(4 * 2 * 2, 5),
                        nn.Softmax(dim=1))
    gap = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.GELU(), nn.AvgPool2d(2), nn.AdaptiveAvgPool2d(1),
                        nn.Flatten(), nn.Linear(8, 3))
    mlp = nn.Sequential(nn.Linear(7, 16), nn.Tanh(), nn.Dropout(0.2), nn.Linear(16, 4), nn.Sigmoid())
    with torch.no_grad():  # non-trivial running statistics
        cnn[1].running_mean.uniform_(-0.5, 0.5)
        cnn[1].running_var.uniform_(0.5, 2.0)
    return {"cnn": (cnn, (3, 10, 13)), "gap": (gap, (3, 8, 6)), "mlp": (mlp, (7,))}


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize("which", ["cnn", "gap", "mlp"])
def test_import_torch_onnx_export(which, dynamo, tmp_path):
    import torch

    model, shape = _torch_models()[which]
    model.eval()
    path = tmp_path / f"{which}.onnx"
    x = torch.randn(2, *shape)
    kw = {"dynamo": True} if dynamo else {"dynamo": False, "dynamic_axes": {"x": {0: "N"}}}
    torch.onnx.export(model, (x,), str(path), input_names=["x"], output_names=["y"], **kw)
    sd, params = import_onnx(path)
    spec = from_dict(sd)
    xn = np.random.default_rng(1).normal(size=(2, *shape)).astype(np.float32)
    want = ort_run(path, xn)
    # xnn's input is channels-last: (N, C, H, W) images become (N, H, W, C)
    xin = xn.transpose(0, 2, 3, 1) if len(shape) == 3 else xn
    assert spec.input_shape == xin.shape[1:]
    assert_close(forward(spec, params, xin.astype(np.float64)), want, "float32", f"torch {which}")


def _matlab_style_opset8(path):
    """What MATLAB's exporter writes (opset 8): NCHW input, Conv with pads, BatchNormalization v7,
    Relu, Sum (a residual), Flatten, Gemm."""
    rng = np.random.default_rng(3)
    c, h, w = 2, 5, 4
    init = {
        "conv_W": rng.normal(size=(3, c, 3, 3)), "conv_B": rng.normal(size=3),
        "conv2_W": rng.normal(size=(3, 3, 1, 1)), "conv2_B": rng.normal(size=3),
        "bn_scale": rng.uniform(0.5, 1.5, 3), "bn_B": rng.normal(size=3),
        "bn_mean": rng.normal(size=3), "bn_var": rng.uniform(0.5, 2, 3),
        "fc_W": rng.normal(size=(4, 3 * h * w)), "fc_B": rng.normal(size=4),
    }
    nodes = [
        helper.make_node("Conv", ["data", "conv_W", "conv_B"], ["c1"], name="conv", pads=[1, 1, 1, 1],
                         kernel_shape=[3, 3], strides=[1, 1]),
        helper.make_node("BatchNormalization", ["c1", "bn_scale", "bn_B", "bn_mean", "bn_var"], ["b1"],
                         name="batchnorm", epsilon=1e-5, spatial=1),
        helper.make_node("Relu", ["b1"], ["r1"], name="relu"),
        helper.make_node("Conv", ["r1", "conv2_W", "conv2_B"], ["c2"], name="conv2", kernel_shape=[1, 1]),
        helper.make_node("Sum", ["r1", "c2"], ["s1"], name="addition"),
        helper.make_node("Flatten", ["s1"], ["f1"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f1", "fc_W", "fc_B"], ["out"], name="fc", transB=1, alpha=1.0, beta=1.0),
    ]
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in init.items()]
    # IR version 3: every initializer is also listed as a graph input
    ins = [helper.make_tensor_value_info("data", TensorProto.FLOAT, [1, c, h, w])] + [
        helper.make_tensor_value_info(k, TensorProto.FLOAT, list(v.shape)) for k, v in init.items()]
    g = helper.make_graph(nodes, "matlab_net", ins, [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 4])],
                          initializer=inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 8)], producer_name="MATLAB")
    model.ir_version = 3
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return (c, h, w)


@pytest.mark.parametrize("convert", [False, True], ids=["opset8", "converted_to_13"])
def test_import_matlab_style_opset8(convert, tmp_path):
    path = tmp_path / "matlab.onnx"
    c, h, w = _matlab_style_opset8(path)
    if convert:
        from onnx import version_converter

        onnx.save(version_converter.convert_version(onnx.load(str(path)), 13), str(path))
    sd, params = import_onnx(path)
    spec = from_dict(sd)
    assert [n.kind for n in spec.nodes] == ["Conv2D", "BatchNorm", "Activation", "Conv2D", "Add", "Flatten", "Dense"]
    assert spec.input_shape == (h, w, c)
    rng = np.random.default_rng(0)
    for i in range(3):  # the file has a fixed batch of 1
        xn = rng.normal(size=(1, c, h, w)).astype(np.float32)
        got = forward(spec, params, xn.transpose(0, 2, 3, 1).astype(np.float64))
        assert_close(got, ort_run(path, xn), "float32", "matlab-style graph")


def test_keras_style_nhwc_graph_with_matmul_add_and_shape_chain(tmp_path):
    """Channels-last input, Transpose into Conv, Reshape via Shape->Gather->Concat, MatMul+Add."""
    rng = np.random.default_rng(5)
    W = rng.normal(size=(4, 3, 3, 3)).astype(np.float32)
    fc = rng.normal(size=(4 * 4 * 5, 6)).astype(np.float32)
    nodes = [
        helper.make_node("Transpose", ["x"], ["xt"], perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["xt", "W"], ["c"], kernel_shape=[3, 3], auto_pad="SAME_UPPER", strides=[2, 2]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Transpose", ["r"], ["rt"], perm=[0, 2, 3, 1]),
        helper.make_node("Shape", ["rt"], ["shp"]),
        helper.make_node("Gather", ["shp", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "ax0"], ["n1"]),
        helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
        helper.make_node("Reshape", ["rt", "target"], ["flat"]),
        helper.make_node("MatMul", ["flat", "fc"], ["mm"]),
        helper.make_node("Add", ["mm", "fcb"], ["y"]),
    ]
    inits = [numpy_helper.from_array(W, "W"), numpy_helper.from_array(fc, "fc"),
             numpy_helper.from_array(rng.normal(size=6).astype(np.float32), "fcb"),
             numpy_helper.from_array(np.array(0, np.int64), "zero"), numpy_helper.from_array(np.array([0], np.int64), "ax0"),
             numpy_helper.from_array(np.array([-1], np.int64), "minus1")]
    g = helper.make_graph(nodes, "k", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 7, 9, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 6])], initializer=inits)
    path = tmp_path / "k.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    sd, params = import_onnx(path)
    spec = from_dict(sd)
    assert spec.input_shape == (7, 9, 3) and [n.kind for n in spec.nodes][-2:] == ["Flatten", "Dense"]
    xn = rng.normal(size=(3, 7, 9, 3)).astype(np.float32)
    assert_close(forward(spec, params, xn.astype(np.float64)), ort_run(path, xn), "float32", "nhwc graph")


def test_unsupported_operators_listed_all_at_once(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Cos", ["a"], ["b"], name="c1"),
             helper.make_node("Cos", ["b"], ["b2"], name="c2"), helper.make_node("Celu", ["b2"], ["y"], name="hs")]
    g = helper.make_graph(nodes, "u", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])])
    path = tmp_path / "u.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 14)]), str(path))
    with pytest.raises(FormatError) as e:
        import_onnx(path)
    msg = str(e.value)
    assert "Cos (opset 14) at c1, c2" in msg and "Celu (opset 14) at hs" in msg
    assert len(e.value.messages) == 2
