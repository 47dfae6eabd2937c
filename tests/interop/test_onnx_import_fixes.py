"""ONNX import fixes: symmetric pool pads, opset-aware constant folding, output rank kept, a
training loss that fits the output, unnamed nodes named by index, clean Gemm bias errors, and the
light model zoo shipped inside the onnx package (ResNet-50, SqueezeNet) against ONNX Runtime."""
from __future__ import annotations

import os

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.parity.harness import assert_close
from xnn.errors import FormatError
from xnn.interop.onnx import export_onnx, import_onnx
from xnn.reference import forward
from xnn.spec import from_dict

from ._onnx_util import ort_run


def _export(module, shape, path, opset=None):
    import torch

    module.eval()
    kw = {"opset_version": opset} if opset else {}
    torch.onnx.export(module, (torch.randn(2, *shape),), str(path), input_names=["x"], output_names=["y"],
                      dynamo=False, dynamic_axes={"x": {0: "N"}}, **kw)
    return path


def _compare(path, shape, seed=1, cf_out=False):
    sd, params = import_onnx(path)
    spec = from_dict(sd)
    xn = np.random.default_rng(seed).normal(size=(2, *shape)).astype(np.float32)
    want = ort_run(path, xn)
    xin = xn.transpose(0, 2, 3, 1) if len(shape) == 3 else xn
    got = forward(spec, params, xin.astype(np.float64))
    if cf_out:  # a channels-first ONNX output is channels-last in xnn
        got = np.moveaxis(got, -1, 1)
    assert got.shape == want.shape
    assert_close(got, want, "float32", str(path))
    return sd, spec, params


def test_maxpool_symmetric_pads_after_relu(tmp_path):
    """torch's MaxPool2d(3, 2, padding=1) (ResNet's stem) writes pads (1,1,1,1): symmetric, imported."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(3, 2, padding=1), nn.Flatten(), nn.Linear(4 * 5 * 4, 3))
    sd, _, _ = _compare(_export(m, (3, 11, 9), tmp_path / "m.onnx"), (3, 11, 9))
    assert [n["type"] for n in sd["model"]].count("MaxPool2D") == 1


def test_maxpool_symmetric_pads_on_signed_input_refused(tmp_path):
    """Zero padding is only exact for inputs >= 0; elsewhere the refusal says why, naming the node."""
    from torch import nn

    m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.MaxPool2d(3, 2, padding=1))
    with pytest.raises(FormatError, match=r"MaxPool.*explicit pads \[1, 1\].*>= 0"):
        import_onnx(_export(m, (3, 10, 10), tmp_path / "m.onnx"))


def test_avgpool_symmetric_pads_count_include_pad(tmp_path):
    """torch's AvgPool2d(3, 2, padding=1) counts the padded cells (count_include_pad=1): exact."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AvgPool2d(3, 2, padding=1), nn.Flatten(), nn.Linear(4 * 4 * 5, 2))
    _compare(_export(m, (3, 9, 11), tmp_path / "m.onnx"), (3, 9, 11))
    m2 = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AvgPool2d(3, 2, padding=1, count_include_pad=False))
    with pytest.raises(FormatError, match="count_include_pad=0"):
        import_onnx(_export(m2, (3, 10, 10), tmp_path / "m2.onnx"))


def _opset9_unsqueeze_reshape(path):
    """Shape -> Gather -> Unsqueeze(axes attribute, opset 9) -> Concat -> Reshape -> Gemm."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=(6, 3)).astype(np.float32)
    nodes = [
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Constant", [], ["zero"], value=numpy_helper.from_array(np.array(0, np.int64))),
        helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n"], ["n1"], axes=[0]),
        helper.make_node("Constant", [], ["minus1"], value=numpy_helper.from_array(np.array([-1], np.int64))),
        helper.make_node("Concat", ["n1", "minus1"], ["shape"], axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["flat"]),
        helper.make_node("MatMul", ["flat", "w"], ["y"]),
    ]
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])],
                          initializer=[numpy_helper.from_array(w, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 9)])
    m.ir_version = 4
    onnx.checker.check_model(m)
    onnx.save(m, str(path))
    return path


def test_opset9_unsqueeze_folds(tmp_path):
    """The folder runs each node at the file's opset (Unsqueeze-1 here, axes as an attribute)."""
    _compare(_opset9_unsqueeze_reshape(tmp_path / "m.onnx"), (2, 3))


def test_output_rank_kept(tmp_path):
    """A graph ending in GlobalAveragePool returns (N, C, 1, 1); so does the import, and its export."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 5, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1))
    sd, spec, params = _compare(_export(m, (3, 6, 7), tmp_path / "m.onnx"), (3, 6, 7))
    assert list(spec.output.out_shape) == [5, 1, 1]
    back = export_onnx(spec, params, tmp_path / "back.onnx")
    x = np.random.default_rng(2).normal(size=(2, 6, 7, 3)).astype(np.float32)
    assert ort_run(back, x).shape == (2, 5, 1, 1)


def test_one_channel_output_gets_a_fitting_loss(tmp_path):
    """A one-channel output is no class distribution: the import chooses mse (binary_cross_entropy
    after a sigmoid) instead of making the spec invalid with the default cross_entropy."""
    from torch import nn

    _, spec, _ = _compare(_export(nn.Conv2d(3, 1, 3), (3, 5, 5), tmp_path / "c.onnx"), (3, 5, 5), cf_out=True)
    assert spec.train.loss.type == "mse"
    _, spec, _ = _compare(_export(nn.Sequential(nn.Linear(4, 1), nn.Sigmoid()), (4,), tmp_path / "s.onnx"), (4,))
    assert spec.train.loss.type == "binary_cross_entropy"
    sd, spec, _ = _compare(_export(nn.Sequential(nn.Linear(4, 3), nn.Softmax(1)), (4,), tmp_path / "k.onnx"), (4,))
    assert "train" not in sd and spec.train.loss.type == "cross_entropy"  # the spec's own default fits


def _one_node_model(path, node, inputs, output, inits=()):
    g = helper.make_graph([node], "g", inputs, [output], initializer=list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(path))
    return path


def test_unnamed_nodes_named_by_index(tmp_path):
    """A node without a name (here with its first output omitted) is reported as #index, op type."""
    rng = np.random.default_rng(0)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 5, 3])
    inits = [numpy_helper.from_array(rng.normal(size=(1, 8, 3)).astype(np.float32), "W"),
             numpy_helper.from_array(rng.normal(size=(1, 8, 2)).astype(np.float32), "R")]
    nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2]),
             helper.make_node("LSTM", ["xt", "W", "R"], ["", "h"], hidden_size=2, clip=1.0)]
    g = helper.make_graph(nodes, "g", [x], [helper.make_tensor_value_info("h", TensorProto.FLOAT, [1, "N", 2])],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    p = tmp_path / "m.onnx"
    onnx.save(m, str(p))
    with pytest.raises(FormatError) as e:
        import_onnx(p)
    msg = str(e.value)
    assert "node ''" not in msg and "node #1 (LSTM)" in msg, msg
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 4])
    p = _one_node_model(tmp_path / "u.onnx", helper.make_node("Selu", ["x"], ["y"]), [x], y)
    with pytest.raises(FormatError, match=r"Selu.*at #0"):
        import_onnx(p)


def test_gemm_matrix_bias_is_a_clean_message(tmp_path):
    """ONNX's test_gemm_default_matrix_bias: C is a (M, N) matrix, one bias per sample: refused in words."""
    rng = np.random.default_rng(0)
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [3, 6])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 4])
    inits = [numpy_helper.from_array(rng.normal(size=(6, 4)).astype(np.float32), "b"),
             numpy_helper.from_array(rng.normal(size=(3, 4)).astype(np.float32), "c")]
    p = _one_node_model(tmp_path / "g.onnx", helper.make_node("Gemm", ["a", "b", "c"], ["y"]), [a], y, inits)
    with pytest.raises(FormatError) as e:
        import_onnx(p)
    msg = str(e.value)
    assert "C of shape [3, 4] is not one bias per unit" in msg and "ValueError" not in msg and "broadcast" not in msg


LIGHT = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")


def _light(name):
    path = os.path.join(LIGHT, f"light_{name}.onnx")
    if not os.path.isfile(path):
        pytest.skip(f"the onnx package here does not ship {path}")
    return path


@pytest.mark.parametrize("name,out_shape", [("resnet50", (1, 1000)), ("squeezenet", (1, 1000, 1, 1))])
def test_light_zoo_imports_and_matches(name, out_shape):
    import onnxruntime as ort

    path = _light(name)
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    (inp,) = sess.get_inputs()
    x = np.random.default_rng(0).normal(size=inp.shape).astype(np.float32)
    want = sess.run(None, {inp.name: x})[0]
    sd, params = import_onnx(path)
    spec = from_dict(sd)
    got = forward(spec, params, x.transpose(0, 2, 3, 1).astype(np.float64))
    assert got.shape == want.shape == out_shape
    assert_close(got, want, "float32", name)


@pytest.mark.parametrize("name", ["densenet121", "inception_v2"])
def test_light_zoo_opset9_unsqueeze_no_longer_crashes(name):
    """These used to stop in an internal TypeError while folding an opset-9 Unsqueeze; now the import
    reaches their first pattern xnn has no layer for and names it."""
    with pytest.raises(FormatError) as e:
        import_onnx(_light(name))
    assert "TypeError" not in str(e.value) and "Unsqueeze" not in str(e.value)
