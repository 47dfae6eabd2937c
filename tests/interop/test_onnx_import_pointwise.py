"""ONNX import of the pointwise kinds: Mul/Sub of tensors (Multiply/Subtract, broadcasting),
Clip (relu6/relu), HardSigmoid, HardSwish, x * HardSigmoid(x), InstanceNormalization,
GroupNormalization and xnn's GroupNorm decomposition (+ weight/bias folding), LRN and the
SpatialDropout marker: xnn export -> import round trips at several opsets, one hand-built graph
per op (foreign files), torch.onnx exports, and the clear refusals."""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.parity.harness import all_cases, assert_close, case_input, case_spec
from xnn.errors import FormatError
from xnn.init import init_params
from xnn.interop.onnx import export_onnx, import_onnx, max_opset
from xnn.reference import forward
from xnn.spec import from_dict

from ._onnx_util import ort_run

KINDS = ("Multiply", "Subtract", "GroupNorm", "LRN", "SpatialDropout1D", "SpatialDropout2D")
PIECEWISE = ("relu6", "hard_sigmoid", "hard_swish")
CASES = [c for c in all_cases() if c[0] in KINDS or (c[0] == "Activation" and c[1].fields["fn"] in PIECEWISE)]


@pytest.mark.parametrize("opset", sorted({13, 17, 18, 21, max_opset()}))
@pytest.mark.parametrize("kind,case,cid", CASES, ids=[c[2] for c in CASES])
def test_roundtrip_at_opsets(kind, case, cid, opset, tmp_path):
    spec = case_spec(kind, case, "float32")
    params = init_params(spec, seed=4)
    rng = np.random.default_rng(1)  # non-trivial norm weights: the affine part must come back exactly
    params = {k: (v + rng.normal(size=v.shape) if k.startswith("node.") else v) for k, v in params.items()}
    path = export_onnx(spec, params, tmp_path / "m.onnx", opset=opset)
    sd, back = import_onnx(path)
    spec2 = from_dict(sd)
    assert [n.kind for n in spec2.nodes] == [n.kind for n in spec.nodes]
    for a, b in zip(spec.nodes, spec2.nodes):
        if a.kind in KINDS or a.kind == "Activation":
            fa, fb = a.layer.fields(), b.layer.fields()
            if a.kind == "GroupNorm":  # groups -1 comes back as the channel count
                fa["groups"] = a.layer.num_groups(a.in_shapes[0][-1])
            assert {k: (np.float32(v) if isinstance(v, float) else v) for k, v in fa.items()} == fb, a.name
    assert set(back) == set(params)
    for k in params:
        np.testing.assert_array_equal(back[k], params[k].astype(np.float32), err_msg=k)
    x = case_input(spec, case)
    f32 = {k: v.astype(np.float32).astype(np.float64) for k, v in params.items()}
    np.testing.assert_allclose(forward(spec2, back, x), forward(spec, f32, x), rtol=1e-6, atol=1e-6)


def test_float64_exports_of_exact_decompositions_import_as_their_parts(tmp_path):
    """float64 files write hard_sigmoid as Clip(x + 3, 0, 6) / 6 (ONNX float attributes are float32):
    not read back as one layer, but as its parts (Scale, relu6, Scale), which compute it."""
    spec = from_dict({"input": {"shape": [4]}, "model": [{"type": "Activation", "fn": "hard_sigmoid"}]})
    path = export_onnx(spec, {}, tmp_path / "m.onnx", dtype="float64")
    sd, params = import_onnx(path)
    assert [n["type"] for n in sd["model"]] == ["Scale", "Activation", "Scale"]
    x = np.linspace(-5, 5, 12).reshape(3, 4)
    np.testing.assert_allclose(forward(from_dict(sd), params, x), forward(spec, {}, x), rtol=1e-15, atol=1e-15)


# ------------------------------------------------------------------ hand-built graphs
def _model(nodes, inits: dict, in_shape, opset=17, out_shape=None):
    ins = [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(in_shape))]
    outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, out_shape or [f"d{i}" for i in range(len(in_shape))])]
    tensors = [numpy_helper.from_array(np.asarray(v, np.int64 if np.asarray(v).dtype.kind == "i" else np.float32), k)
               for k, v in inits.items()]
    g = helper.make_graph(nodes, "g", ins, outs, initializer=tensors)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8 if opset >= 15 else 7
    onnx.checker.check_model(m)
    return m


def _import_and_compare(model, tmp_path, x):
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    sd, params = import_onnx(path)
    spec = from_dict(sd)
    want = ort_run(path, x)
    xin = x if spec.input_shape == x.shape[1:] else np.moveaxis(x, 1, -1)
    got = forward(spec, params, xin.astype(np.float64))
    if got.shape != want.shape:
        got = np.moveaxis(got, -1, 1)
    assert_close(got, want, "float32", "import vs onnxruntime")
    return spec


def _conv(name, x, cout, cin, rng, inits):
    inits[f"{name}_w"] = rng.normal(size=(cout, cin, 3, 3)) * 0.5
    inits[f"{name}_b"] = rng.normal(size=cout)
    return helper.make_node("Conv", [x, f"{name}_w", f"{name}_b"], [name], pads=[1, 1, 1, 1], kernel_shape=[3, 3])


X4 = np.random.default_rng(0).normal(size=(2, 3, 5, 4)).astype(np.float32)


def test_mul_channels_first_by_unit_axes_view_is_a_multiply(tmp_path):
    """(N, C, H, W) * GlobalAveragePool(...) (N, C, 1, 1): xnn's (H, W, C) * (C,)."""
    rng, inits = np.random.default_rng(1), {}
    nodes = [_conv("c", "x", 6, 3, rng, inits), helper.make_node("GlobalAveragePool", ["c"], ["g"]),
             helper.make_node("Sigmoid", ["g"], ["s"]), helper.make_node("Mul", ["c", "s"], ["y"])]
    spec = _import_and_compare(_model(nodes, inits, [2, 3, 5, 4]), tmp_path, X4)
    assert [n.kind for n in spec.nodes] == ["Conv2D", "GlobalAvgPool2D", "Activation", "Multiply"]
    assert [tuple(s) for s in spec.nodes[-1].in_shapes] == [(5, 4, 6), (6,)]


def test_mul_chain_is_one_multiply_and_sub_a_subtract(tmp_path):
    rng, inits = np.random.default_rng(2), {}
    nodes = [_conv("a", "x", 4, 3, rng, inits), _conv("b", "x", 4, 3, rng, inits), _conv("d", "x", 4, 3, rng, inits),
             helper.make_node("Mul", ["a", "b"], ["ab"]), helper.make_node("Mul", ["ab", "d"], ["abd"]),
             helper.make_node("Sub", ["abd", "a"], ["y"])]
    spec = _import_and_compare(_model(nodes, inits, [2, 3, 5, 4]), tmp_path, X4)
    kinds = [n.kind for n in spec.nodes]
    assert kinds == ["Conv2D"] * 3 + ["Multiply", "Subtract"]
    assert len(spec.nodes[3].inputs) == 3


def test_mul_of_rank2_and_rank1_features(tmp_path):
    """Plain (N, F) tensors: Mul(Gemm, Gemm) and Sub of the first by an Unsqueeze'd... vector."""
    rng = np.random.default_rng(3)
    inits = {"w1": rng.normal(size=(6, 5)), "w2": rng.normal(size=(6, 5))}
    nodes = [helper.make_node("Gemm", ["x", "w1"], ["a"], transB=1), helper.make_node("Gemm", ["x", "w2"], ["b"], transB=1),
             helper.make_node("Mul", ["a", "b"], ["y"])]
    x = rng.normal(size=(3, 5)).astype(np.float32)
    spec = _import_and_compare(_model(nodes, inits, [3, 5]), tmp_path, x)
    assert [n.kind for n in spec.nodes] == ["Dense", "Dense", "Multiply"]


def test_mul_that_xnn_cannot_broadcast_is_refused(tmp_path):
    """c[n, ch, h, w] * c[n, ch, w, h] (a Transpose of the spatial axes): no xnn layer transposes."""
    rng, inits = np.random.default_rng(4), {}
    nodes = [_conv("c", "x", 4, 3, rng, inits), helper.make_node("Transpose", ["c"], ["t"], perm=[0, 1, 3, 2]),
             helper.make_node("Mul", ["c", "t"], ["y"])]
    model = _model(nodes, inits, [2, 3, 4, 4])
    onnx.save(model, str(tmp_path / "m.onnx"))
    with pytest.raises(FormatError, match="does not line up"):
        import_onnx(tmp_path / "m.onnx")


@pytest.mark.parametrize("op,consts", [("Sub", {"k": np.ones(5)}), ("Mul", {"k": np.full(5, 2.0)})])
def test_constant_operands_become_a_scale(op, consts, tmp_path):
    """A tensor and a constant: no Subtract/Multiply (they take tensors) but a Scale layer."""
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node(op, ["r", "k"], ["y"])]
    x = np.random.default_rng(1).normal(size=(2, 5)).astype(np.float32)
    spec = _import_and_compare(_model(nodes, consts, [2, 5]), tmp_path, x)
    assert [n.kind for n in spec.nodes] == ["Activation", "Scale"]


def test_constant_operands_that_vary_along_the_batch_are_refused(tmp_path):
    nodes = [helper.make_node("Relu", ["x"], ["r"]), helper.make_node("Mul", ["r", "k"], ["y"])]
    onnx.save(_model(nodes, {"k": np.ones((2, 5))}, [2, 5]), str(tmp_path / "m.onnx"))
    with pytest.raises(FormatError, match="varies along the batch axis"):
        import_onnx(tmp_path / "m.onnx")


@pytest.mark.parametrize("opset,lo,hi,fn", [(7, 0.0, 6.0, "relu6"), (10, 0.0, None, "relu"), (11, 0.0, 6.0, "relu6"),
                                            (13, 0.0, None, "relu"), (17, 0.0, 6.0, "relu6")])
def test_clip_attributes_before_11_inputs_after(opset, lo, hi, fn, tmp_path):
    x = np.linspace(-8, 8, 30, dtype=np.float32).reshape(3, 10)
    if opset < 11:
        kw = {"min": lo} if hi is None else {"min": lo, "max": hi}
        nodes, inits = [helper.make_node("Clip", ["x"], ["y"], **kw)], {}
    else:
        inits = {"lo": np.array(lo)} if hi is None else {"lo": np.array(lo), "hi": np.array(hi)}
        nodes = [helper.make_node("Clip", ["x", "lo"] + (["hi"] if hi is not None else []), ["y"])]
    spec = _import_and_compare(_model(nodes, inits, [3, 10], opset), tmp_path, x)
    assert spec.nodes[0].layer.fn == fn


def test_clip_other_bounds_refused(tmp_path):
    nodes = [helper.make_node("Clip", ["x", "lo", "hi"], ["y"])]
    onnx.save(_model(nodes, {"lo": np.array(-1.0), "hi": np.array(1.0)}, [2, 4]), str(tmp_path / "m.onnx"))
    with pytest.raises(FormatError, match=r"only Clip\(0, 6\)"):
        import_onnx(tmp_path / "m.onnx")


def test_hard_sigmoid_hard_swish_and_the_product_rule(tmp_path):
    x = np.linspace(-7, 7, 40, dtype=np.float32).reshape(2, 20)
    hs = helper.make_node("HardSigmoid", ["x"], ["h"], alpha=1 / 6, beta=0.5)
    # x * HardSigmoid(x) (what xnn writes at opset 13) is one hard_swish layer
    spec = _import_and_compare(_model([hs, helper.make_node("Mul", ["x", "h"], ["y"])], {}, [2, 20], 13), tmp_path, x)
    assert [(n.kind, n.layer.fn) for n in spec.nodes] == [("Activation", "hard_swish")]
    spec = _import_and_compare(_model([helper.make_node("HardSwish", ["x"], ["y"])], {}, [2, 20], 14), tmp_path, x)
    assert spec.nodes[0].layer.fn == "hard_swish"
    spec = _import_and_compare(_model([helper.make_node("HardSigmoid", ["x"], ["y"], alpha=1 / 6, beta=0.5)], {},
                                      [2, 20]), tmp_path, x)
    assert spec.nodes[0].layer.fn == "hard_sigmoid"


def test_hard_sigmoid_with_onnx_default_alpha_is_refused(tmp_path):
    """ONNX's default alpha 0.2 (Keras 2's hard_sigmoid) is another function."""
    onnx.save(_model([helper.make_node("HardSigmoid", ["x"], ["y"])], {}, [2, 4]), str(tmp_path / "m.onnx"))
    with pytest.raises(FormatError, match="alpha=0.2.*Keras 2"):
        import_onnx(tmp_path / "m.onnx")


@pytest.mark.parametrize("affine", [False, True])
def test_instance_normalization_with_and_without_affine(affine, tmp_path):
    rng, inits = np.random.default_rng(5), {}
    inits["s"] = rng.normal(size=4) if affine else np.ones(4)
    inits["b"] = rng.normal(size=4) if affine else np.zeros(4)
    nodes = [_conv("c", "x", 4, 3, rng, inits), helper.make_node("InstanceNormalization", ["c", "s", "b"], ["y"],
                                                                 epsilon=1e-3)]
    spec = _import_and_compare(_model(nodes, inits, [2, 3, 5, 4]), tmp_path, X4)
    gn = spec.nodes[-1]
    assert gn.kind == "GroupNorm" and gn.layer.groups == 4 and gn.layer.affine == affine
    assert np.float32(gn.layer.eps) == np.float32(1e-3)


def test_torch_style_instance_norm_then_mul_add_folds_into_the_weights(tmp_path):
    """InstanceNormalization(1, 0), Mul(weight), Add(bias) (per channel, (C, 1, 1)) is one GroupNorm."""
    rng, inits = np.random.default_rng(6), {"s": np.ones(4), "b": np.zeros(4)}
    inits.update({"w": rng.normal(size=(4, 1, 1)), "bb": rng.normal(size=(4, 1, 1))})
    nodes = [_conv("c", "x", 4, 3, rng, inits), helper.make_node("InstanceNormalization", ["c", "s", "b"], ["n"]),
             helper.make_node("Mul", ["n", "w"], ["m"]), helper.make_node("Add", ["m", "bb"], ["y"])]
    spec = _import_and_compare(_model(nodes, inits, [2, 3, 5, 4]), tmp_path, X4)
    assert [n.kind for n in spec.nodes] == ["Conv2D", "GroupNorm"] and spec.nodes[1].layer.affine


def test_group_normalization_21(tmp_path):
    rng, inits = np.random.default_rng(7), {}
    inits.update({"s": rng.normal(size=6), "b": rng.normal(size=6)})
    nodes = [_conv("c", "x", 6, 3, rng, inits),
             helper.make_node("GroupNormalization", ["c", "s", "b"], ["y"], num_groups=3, epsilon=1e-4)]
    spec = _import_and_compare(_model(nodes, inits, [2, 3, 5, 4], 21), tmp_path, X4)
    gn = spec.nodes[-1]
    assert gn.kind == "GroupNorm" and gn.layer.groups == 3 and gn.layer.affine


def test_lrn_odd_and_even(tmp_path):
    rng, inits = np.random.default_rng(8), {}
    nodes = [_conv("c", "x", 7, 3, rng, inits), helper.make_node("LRN", ["c"], ["y"], size=5, alpha=0.3, beta=0.7,
                                                                 bias=1.5)]
    spec = _import_and_compare(_model(nodes, inits, [2, 3, 5, 4]), tmp_path, X4)
    lrn = spec.nodes[-1].layer
    assert (lrn.size, np.float32(lrn.alpha), np.float32(lrn.beta), lrn.bias) == (5, np.float32(0.3), np.float32(0.7), 1.5)
    nodes[-1] = helper.make_node("LRN", ["c"], ["y"], size=4)
    onnx.save(_model(nodes, inits, [2, 3, 5, 4]), str(tmp_path / "even.onnx"))
    with pytest.raises(FormatError, match="LRN size 4: xnn's LRN takes odd sizes"):
        import_onnx(tmp_path / "even.onnx")


def test_dropout_without_the_marker_is_plain_dropout(tmp_path):
    rng, inits = np.random.default_rng(9), {"r": np.array(0.3)}
    nodes = [_conv("c", "x", 4, 3, rng, inits), helper.make_node("Dropout", ["c", "r"], ["y"])]
    spec = _import_and_compare(_model(nodes, inits, [2, 3, 5, 4]), tmp_path, X4)
    assert spec.nodes[-1].kind == "Dropout"


# ------------------------------------------------------------------ torch.onnx exports
def _torch(name):
    import torch
    from torch import nn

    class SE(nn.Module):
        def __init__(self):
            super().__init__()
            self.c, self.fc = nn.Conv2d(3, 6, 3, padding=1), nn.Linear(6, 6)

        def forward(self, x):
            y = self.c(x)
            return y * nn.functional.hardsigmoid(self.fc(y.mean((2, 3))))[:, :, None, None] - y

    torch.manual_seed(0)
    return {"se": SE(),
            "acts": nn.Sequential(nn.Linear(5, 6), nn.ReLU6(), nn.Linear(6, 6), nn.Hardswish(), nn.Linear(6, 4),
                                  nn.Hardsigmoid()),
            "instance_norm": nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.InstanceNorm2d(4, affine=True)),
            "group_norm": nn.Sequential(nn.Conv2d(3, 6, 3, padding=1), nn.GroupNorm(3, 6))}[name]


@pytest.mark.parametrize("name,opset,dynamo", [("se", 17, False), ("se", 17, True), ("acts", 17, False),
                                               ("acts", 17, True), ("instance_norm", 17, False),
                                               ("instance_norm", 17, True), ("group_norm", 21, True)])
def test_torch_onnx_exports(name, opset, dynamo, tmp_path):
    import torch

    m = _torch(name).eval()
    for p in m.parameters():  # non-trivial norm weights too
        p.data.normal_()
    shape = (5,) if name == "acts" else (3, 5, 4)
    x = torch.randn(2, *shape)
    kw = {"dynamo": True} if dynamo else {"dynamo": False, "dynamic_axes": {"x": {0: "N"}}}
    torch.onnx.export(m, (x,), str(tmp_path / "t.onnx"), input_names=["x"], output_names=["y"], opset_version=opset,
                      **kw)
    xn = np.random.default_rng(1).normal(size=(2, *shape)).astype(np.float32)
    spec = _import_and_compare(onnx.load(str(tmp_path / "t.onnx")), tmp_path, xn)
    kinds = {n.kind for n in spec.nodes}
    assert kinds & {"Multiply", "Activation", "GroupNorm"}, kinds


def test_torch_group_norm_below_opset_21_is_refused_clearly(tmp_path):
    """torch writes GroupNorm below 21 as Reshape(x, (N, G, -1)) of the channels-first tensor,
    InstanceNormalization, Reshape back: a channels-first Reshape the importer does not read yet."""
    import torch

    m = _torch("group_norm").eval()
    torch.onnx.export(m, (torch.randn(2, 3, 5, 4),), str(tmp_path / "t.onnx"), input_names=["x"],
                      output_names=["y"], opset_version=17, dynamo=False, dynamic_axes={"x": {0: "N"}})
    with pytest.raises(FormatError, match="Reshape"):
        import_onnx(tmp_path / "t.onnx")
