"""ONNX import fixes: symmetric pool pads, opset-aware constant folding, output rank kept, a
training loss that fits the output, unnamed nodes named by index, clean Gemm bias errors. (The
light model zoo shipped inside the onnx package: test_onnx_light_zoo.py.)"""
from __future__ import annotations

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


def test_maxpool_pads_on_signed_input_copy_the_edges(tmp_path):
    """Zero padding is exact only for inputs >= 0; on a signed input the pads are copies of the edge
    cells (Cropping + Concatenate): every window that reads padding reads that edge cell too."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.MaxPool2d(3, 2, padding=1))
    sd, _, _ = _compare(_export(m, (3, 10, 10), tmp_path / "m.onnx"), (3, 10, 10), cf_out=True)
    kinds = [n["type"] for n in sd["model"]]
    assert "ZeroPadding2D" not in kinds and kinds.count("Concatenate") == 2 and kinds[-1] == "MaxPool2D"


@pytest.mark.parametrize("ceil,include", [(False, True), (False, False), (True, True), (True, False)])
def test_avgpool_explicit_pads_count_include_pad_and_ceil_mode(ceil, include, tmp_path):
    """torch's AvgPool2d(3, 2, padding=1): zero padding and a 'valid' pool, then a per-position Scale
    where ONNX's divisor is not 9 (padded cells not counted, or a ceil_mode window past the pads)."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 4, 3), nn.AvgPool2d(3, 2, padding=1, ceil_mode=ceil, count_include_pad=include))
    sd, _, _ = _compare(_export(m, (3, 10, 11), tmp_path / "m.onnx"), (3, 10, 11), cf_out=True)
    kinds = [n["type"] for n in sd["model"]]
    assert kinds[:3] == ["Conv2D", "ZeroPadding2D", "AvgPool2D"]
    assert ("Scale" in kinds) == (not include or ceil), kinds


def test_avgpool_one_window_over_the_input_is_a_global_pool(tmp_path):
    """Inception v1's last pool: 7x7 with pads (0, 1) on a 6x6 input and padded cells not counted."""
    rng = np.random.default_rng(0)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 6, 6])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3, 1, 1])
    w = numpy_helper.from_array(rng.normal(size=(3, 3, 1, 1)).astype(np.float32), "w")
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1]),
             helper.make_node("AveragePool", ["c"], ["y"], kernel_shape=[7, 7], pads=[0, 0, 1, 1])]
    g = helper.make_graph(nodes, "g", [x], [y], initializer=[w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 11)])
    m.ir_version = 7
    onnx.save(m, str(tmp_path / "m.onnx"))
    sd, _, _ = _compare(tmp_path / "m.onnx", (3, 6, 6))
    assert [n["type"] for n in sd["model"]] == ["Conv2D", "GlobalAvgPool2D", "Reshape"]


def test_input_normalization_and_decomposed_batchnorm(tmp_path):
    """(x - mean) / std on the input is one Scale (Sub, then Div folded in); a per-channel Mul and Add
    after a Conv (torch folds the BatchNorm into the Conv in eval mode) is one more Scale. (A
    BatchNormalization followed by Mul and Add is one BatchNorm: DenseNet in test_onnx_light_zoo.py.)"""
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn = nn.Conv2d(3, 5, 3), nn.BatchNorm2d(5)
            self.s, self.t = nn.Parameter(torch.rand(1, 5, 1, 1) + 0.5), nn.Parameter(torch.randn(1, 5, 1, 1))
            self.mean, self.std = torch.tensor([0.4, 0.5, 0.6]).view(1, 3, 1, 1), torch.tensor([0.2, 0.3, 0.25]).view(1, 3, 1, 1)

        def forward(self, x):
            return torch.relu(self.bn(self.conv((x - self.mean) / self.std)) * self.s + self.t)

    torch.manual_seed(0)
    net = Net()
    with torch.no_grad():
        net.bn.running_mean.uniform_(-0.5, 0.5)
        net.bn.running_var.uniform_(0.5, 2.0)
    sd, _, params = _compare(_export(net, (3, 8, 7), tmp_path / "m.onnx"), (3, 8, 7), cf_out=True)
    assert [n["type"] for n in sd["model"]] == ["Scale", "Conv2D", "Scale", "Activation"]
    assert sd["model"][2].get("use_bias", True)
    scale = next(n["name"] for n in sd["model"] if n["type"] == "Scale")
    np.testing.assert_allclose(params[f"{scale}.weight"], 1 / np.array([0.2, 0.3, 0.25], np.float32), rtol=1e-7)


def test_channel_shuffle_from_torch(tmp_path):
    """ShuffleNet's shuffle as torch code writes it (view, transpose, reshape): one ChannelShuffle."""
    import torch
    from torch import nn

    class Shuffle(nn.Module):
        def forward(self, x):
            n, c, h, w = x.shape
            return x.view(n, 3, c // 3, h, w).transpose(1, 2).reshape(n, c, h, w)

    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), Shuffle(), nn.Conv2d(6, 6, 1, groups=3), nn.Flatten(),
                      nn.Linear(6 * 5 * 4, 3))
    sd, _, _ = _compare(_export(m, (3, 5, 4), tmp_path / "m.onnx"), (3, 5, 4))
    assert [n["type"] for n in sd["model"]] == ["Conv2D", "ChannelShuffle", "Conv2D", "Flatten", "Dense"]
    assert sd["model"][1]["groups"] == 3


def test_a_split_channel_axis_read_otherwise_is_refused(tmp_path):
    """Reshape (N, C, H, W) -> (N, g, C/g, H, W) and a Transpose of the two halves read by anything
    but the Reshape back is no channel shuffle: refused, naming the node."""
    rng = np.random.default_rng(0)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4, 3, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 2, 3, 3])
    inits = [numpy_helper.from_array(rng.normal(size=(4, 4, 1, 1)).astype(np.float32), "w"),
             numpy_helper.from_array(np.array([0, 2, 2, 3, 3], np.int64), "s")]
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1]),
             helper.make_node("Reshape", ["c", "s"], ["r"]),
             helper.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 1, 3, 4]),
             helper.make_node("Relu", ["t"], ["y"])]
    p = tmp_path / "m.onnx"
    g = helper.make_graph(nodes, "g", [x], [y], initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(p))
    with pytest.raises(FormatError) as e:
        import_onnx(p)
    assert "node #1 (Reshape)" in str(e.value), str(e.value)


def test_classifier_conv_on_a_pooled_vector_is_dense(tmp_path):
    """DenseNet's head: GlobalAveragePool then a 1x1 Conv on (N, C, 1, 1): a Dense; the output keeps
    ONNX's (N, classes, 1, 1)."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    m = nn.Sequential(nn.Conv2d(3, 6, 3), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Conv2d(6, 4, 1))
    sd, spec, _ = _compare(_export(m, (3, 6, 5), tmp_path / "m.onnx"), (3, 6, 5))
    assert [n["type"] for n in sd["model"]] == ["Conv2D", "Activation", "GlobalAvgPool2D", "Dense", "Reshape"]
    assert list(spec.output.out_shape) == [4, 1, 1]


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


@pytest.mark.slow
@pytest.mark.parametrize("example", ["digits_cnn", "residual_cnn", "synthetic_shapes_cnn", "synthetic_segmentation"])
def test_keras_tf2onnx_exports_of_the_example_cnns_import(example, tmp_path):
    """tf2onnx writes Keras's BatchNormalization as Mul/Add (a Scale here) and keeps channels-last
    graphs with Transposes around each Conv: the import computes what ONNX Runtime computes."""
    pytest.importorskip("tf2onnx", reason="Keras's ONNX export on TensorFlow needs tf2onnx")
    from pathlib import Path

    from xnn import init_params, load_spec
    from xnn.interop.onnx import export_via
    from xnn.parity import seeded_input

    spec = load_spec(Path(__file__).resolve().parents[2] / "examples" / f"{example}.yaml")
    path = export_via(spec, init_params(spec), tmp_path / "k.onnx", via="keras")
    sd, params = import_onnx(path)
    x = seeded_input(spec, 3, 0)
    assert_close(forward(from_dict(sd), params, x), ort_run(path, x.astype(np.float32)), "float32", example)


# The light model zoo shipped inside the onnx package (all nine models): test_onnx_light_zoo.py
