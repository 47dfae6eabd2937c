"""The block layers: ClassToken with a non-zero token on every path (its registry init is zeros),
the composites' part names and validation errors, SeparableConv2D against Keras's own layer, and
PatchEmbedding's token order against torch's ``conv(x).flatten(2).transpose(1, 2)``.
"""
from __future__ import annotations

import numpy as np
import pytest

from xnn.errors import SpecError
from xnn.init import init_params
from xnn.reference import forward
from xnn.spec import from_dict

from .harness import assert_close


def _spec(shape, model, dtype="float64"):
    return from_dict({"input": {"shape": list(shape)}, "model": model,
                      "train": {"dtype": dtype, "loss": "mse", "metrics": []}})


def _errors(shape, model):
    with pytest.raises(SpecError) as e:
        _spec(shape, model)
    return e.value.messages


VIT = [{"type": "PatchEmbedding", "name": "patch", "patch_size": 2, "dim": 6},
       {"type": "ClassToken", "name": "cls"},
       {"type": "PositionalEmbedding", "name": "pos", "max_length": 8},
       {"type": "TransformerEncoderBlock", "name": "enc", "num_heads": 2, "mlp_dim": 8}]


def _vit_params(spec, seed=1):
    p = init_params(spec, seed=seed)
    p["cls.token"] = np.random.default_rng(seed).normal(size=p["cls.token"].shape)
    return p


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_tiny_vit_with_a_nonzero_token_torch_keras_numpy(dtype):
    from xnn.backends import get

    spec = _spec((4, 6, 3), VIT, dtype)
    assert spec.output.out_shape == (7, 6)
    params = {k: v.astype(dtype) for k, v in _vit_params(spec).items()}
    x = np.random.default_rng(0).normal(size=(3, 4, 6, 3)).astype(dtype)
    ref = forward(spec, params, x)
    for name in ("torch", "keras"):
        be = get(name)
        model = be.build(spec, params, dtype=dtype)
        assert_close(be.predict(model, x), ref, dtype, f"{name} vs numpy")
        back = be.get_params(model)
        for k in params:
            np.testing.assert_array_equal(back[k], params[k], err_msg=f"{name}: {k}")


def test_class_token_nonzero_onnx_and_mat(tmp_path):
    from xnn.interop.mat import export_mat, import_mat
    from xnn.interop.onnx import export_onnx, run_onnx

    spec = _spec((5, 4), [{"type": "ClassToken", "name": "cls"}], "float32")
    params = {"cls.token": np.array([0.5, -1.0, 2.0, 3.0])}
    x = np.random.default_rng(1).normal(size=(2, 5, 4))
    ref = forward(spec, params, x)
    np.testing.assert_array_equal(ref[:, 0], np.broadcast_to(params["cls.token"], (2, 4)))
    np.testing.assert_array_equal(ref[:, 1:], x)
    y = run_onnx(export_onnx(spec, params, tmp_path / "m.onnx"), x.astype(np.float32))
    assert_close(y, ref, "float32", "onnxruntime vs numpy")
    for n in (1, 4):  # the batch size is read from the input
        assert run_onnx(tmp_path / "m.onnx", np.zeros((n, 5, 4), np.float32)).shape == (n, 6, 4)
    export_mat(spec, params, tmp_path / "m.mat", ref_input=x)
    _, back = import_mat(tmp_path / "m.mat")
    np.testing.assert_array_equal(back["cls.token"], params["cls.token"].astype(np.float32))


def test_class_token_nonzero_token_in_octave(tmp_path):
    import shutil

    if shutil.which("octave-cli") is None:
        pytest.skip("GNU Octave (octave-cli) is not installed")
    from tests.interop.test_mat_octave import MATLAB_DIR, run_octave
    from xnn.interop.mat import export_mat

    spec = _spec((4, 6, 3), VIT)
    x = np.random.default_rng(0).normal(size=(3, 4, 6, 3))
    export_mat(spec, _vit_params(spec), tmp_path / "vit.mat", ref_input=x)
    out = run_octave(f"warning('off', 'all'); addpath('{MATLAB_DIR}'); m = xnn.load('{tmp_path / 'vit.mat'}');\n"
                     "[ok, a, r] = xnn.compare(m); fprintf('XNNRESULT\\t%d\\t%.6e\\n', ok, r);\n", tmp_path)
    ok, rel = next(x for x in out.splitlines() if x.startswith("XNNRESULT")).split("\t")[1:]
    assert ok == "1" and float(rel) <= 1e-9


def test_patch_tokens_are_row_major_like_torch_flatten_transpose():
    import torch

    spec = _spec((6, 4, 3), [{"type": "PatchEmbedding", "name": "pe", "patch_size": [3, 2], "dim": 5}])
    p = init_params(spec, seed=2)
    x = np.random.default_rng(3).normal(size=(2, 6, 4, 3))
    conv = torch.nn.Conv2d(3, 5, (3, 2), stride=(3, 2)).double()
    conv.load_state_dict({"weight": torch.tensor(p["pe_proj.weight"]), "bias": torch.tensor(p["pe_proj.bias"])})
    want = conv(torch.tensor(x).permute(0, 3, 1, 2)).flatten(2).transpose(1, 2).detach().numpy()
    np.testing.assert_allclose(forward(spec, p, x), want, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("case", [
    dict(filters=4, kernel_size=3, strides=2, padding="same", depth_multiplier=2, dilation=1, use_bias=True),
    dict(filters=3, kernel_size=[3, 2], strides=1, padding="valid", depth_multiplier=1, dilation=2, use_bias=False),
])
def test_separable_conv_is_keras_separable_conv2d(case):
    import keras

    spec = _spec((7, 8, 3), [{"type": "SeparableConv2D", "name": "sep", **case}])
    p = init_params(spec, seed=4)
    x = np.random.default_rng(5).normal(size=(2, 7, 8, 3))
    c, m = 3, case["depth_multiplier"]
    native = keras.layers.SeparableConv2D(case["filters"], case["kernel_size"], strides=case["strides"],
                                          padding=case["padding"], depth_multiplier=m,
                                          dilation_rate=case["dilation"], use_bias=case["use_bias"],
                                          dtype="float64")
    native.build((None, 7, 8, 3))
    wd = p["sep_depthwise.weight"]  # (C·M, 1, kh, kw), output channel c·M + m
    kh, kw = wd.shape[2:]
    weights = [wd.reshape(c, m, kh, kw).transpose(2, 3, 0, 1), p["sep.weight"].transpose(2, 3, 1, 0)]
    if case["use_bias"]:
        weights.append(p["sep.bias"])
    native.set_weights(weights)
    np.testing.assert_allclose(forward(spec, p, x), np.asarray(native(x)), rtol=1e-10, atol=1e-12)


def _parts(shape, entry):
    spec = _spec(shape, [entry])
    return {n.name: n.kind for n in spec.nodes}, spec


def test_part_names_are_readable_and_the_last_is_the_block():
    kinds, spec = _parts((8, 8, 4), {"type": "ResidualBlock", "name": "blk", "filters": 8, "strides": 2})
    assert list(kinds) == ["blk_conv1", "blk_bn1", "blk_relu1", "blk_conv2", "blk_bn2", "blk_proj", "blk_proj_bn",
                           "blk_add", "blk"]
    assert kinds["blk"] == "Activation" and spec.output.out_shape == (4, 4, 8)
    assert spec.node_map["blk_add"].inputs == ("blk_bn2", "blk_proj_bn")
    assert all(n.origin == "blk" for n in spec.nodes)
    kinds, spec = _parts((8, 8, 16), {"type": "ResidualBlock", "name": "b", "filters": 4, "variant": "bottleneck"})
    assert "b_proj" not in kinds and spec.node_map["b_add"].inputs == ("b_bn3", "input")
    assert spec.node_map["b_conv2"].layer.strides == 1 and spec.output.out_shape == (8, 8, 16)
    kinds, spec = _parts((8, 8, 4), {"type": "ResidualBlock", "name": "b", "filters": 4, "variant": "bottleneck",
                                     "strides": 2})
    assert spec.node_map["b_conv2"].layer.strides == 2 and spec.node_map["b_conv1"].layer.strides == 1
    assert spec.output.out_shape == (4, 4, 16)
    kinds, spec = _parts((6, 6, 4), {"type": "DenseBlock", "name": "d", "layers": 2, "growth_rate": 3})
    assert spec.node_map["d_l1_cat"].inputs == ("input", "d_l1_conv2")
    assert spec.node_map["d"].inputs == ("d_l1_cat", "d_l2_conv2") and spec.output.out_shape == (6, 6, 10)
    assert spec.node_map["d_l2_conv1"].out_shape == (6, 6, 12)
    kinds, spec = _parts((7, 5, 10), {"type": "TransitionBlock", "name": "t"})
    assert list(kinds) == ["t_bn", "t_relu", "t_conv", "t"] and spec.output.out_shape == (3, 2, 5)
    kinds, spec = _parts((5, 5, 3), {"type": "InceptionBlock", "name": "inc", "filters_1x1": 2,
                                     "filters_3x3_reduce": 2, "filters_3x3": 3, "filters_5x5_reduce": 1,
                                     "filters_5x5": 2, "pool_proj": 1})
    assert spec.node_map["inc"].inputs == ("inc_b1_relu", "inc_b2_relu", "inc_b3_relu", "inc_b4_relu")
    assert spec.node_map["inc_b3"].layer.kernel_size == 5 and spec.output.out_shape == (5, 5, 8)
    kinds, spec = _parts((4, 4, 3), {"type": "SeparableConv2D", "name": "s", "filters": 2, "kernel_size": 3})
    assert list(kinds) == ["s_depthwise", "s"] and spec.node_map["s_depthwise"].layer.groups == 3
    assert "bias" not in spec.node_map["s_depthwise"].params and "bias" in spec.node_map["s"].params
    kinds, spec = _parts((8, 8, 4), {"type": "InvertedResidual", "name": "ir", "filters": 4})
    assert list(kinds) == ["ir_expand", "ir_expand_bn", "ir_expand_act", "ir_dw", "ir_dw_bn", "ir_dw_act",
                           "ir_project", "ir_project_bn", "ir"]
    assert kinds["ir"] == "Add" and spec.node_map["ir"].inputs == ("input", "ir_project_bn")
    assert spec.node_map["ir_dw"].layer.groups == 24 and spec.node_map["ir_dw_act"].layer.fn == "relu6"
    kinds, spec = _parts((8, 8, 4), {"type": "InvertedResidual", "name": "ir", "filters": 6, "strides": 2,
                                     "expansion": 1})
    assert list(kinds) == ["ir_dw", "ir_dw_bn", "ir_dw_act", "ir_project", "ir"] and kinds["ir"] == "BatchNorm"
    assert spec.output.out_shape == (4, 4, 6)
    kinds, spec = _parts((5, 4, 8), {"type": "SqueezeExcite", "name": "se", "gate": "hard_sigmoid"})
    assert list(kinds) == ["se_pool", "se_fc1", "se_act", "se_fc2", "se_gate", "se"] and kinds["se"] == "Multiply"
    assert spec.node_map["se"].inputs == ("input", "se_gate") and spec.node_map["se_fc1"].out_shape == (2,)
    assert spec.node_map["se_gate"].layer.fn == "hard_sigmoid" and spec.output.out_shape == (5, 4, 8)
    kinds, spec = _parts((4, 6, 3), {"type": "PatchEmbedding", "name": "pe", "patch_size": 2, "dim": 5})
    assert kinds == {"pe_proj": "Conv2D", "pe": "Reshape"} and spec.output.out_shape == (6, 5)


def test_spec_yaml_keeps_the_composite():
    spec = _spec((4, 6, 3), VIT)
    assert [m["type"] for m in spec.raw["model"]] == ["PatchEmbedding", "ClassToken", "PositionalEmbedding",
                                                       "TransformerEncoderBlock"]
    assert "PatchEmbedding" not in {n.kind for n in spec.nodes}


@pytest.mark.parametrize("shape,entry,want", [
    ((9, 8, 3), {"type": "PatchEmbedding", "patch_size": 4, "dim": 2},
     "model[0].patch_size: patch size 4 does not divide the image height 9"),
    ((8, 6, 3), {"type": "PatchEmbedding", "patch_size": [2, 4], "dim": 2},
     "model[0].patch_size: patch size 4 does not divide the image width 6"),
    ((8, 6, 3), {"type": "PatchEmbedding", "patch_size": [2, 2, 2], "dim": 2},
     "model[0].patch_size: needs 2 values"),
    ((8, 3), {"type": "ResidualBlock", "filters": 2}, "model[0].inputs: ResidualBlock needs an (H, W, C) image"),
    ((8, 8, 3), {"type": "ResidualBlock", "filters": 2, "expansion": 2},
     "model[0].expansion: expansion 2 applies to variant: bottleneck only"),
    ((8, 8, 3), {"type": "TransitionBlock", "compression": 0.2},
     "model[0].compression: compression 0.2 of 3 channels leaves none"),
    ((1, 4, 3), {"type": "TransitionBlock"}, "model[0].inputs: the 2x2 average pooling needs an image of at least 2 x 2"),
    ((2, 2, 3), {"type": "SeparableConv2D", "filters": 2, "kernel_size": 3},
     "model[0]: part separableconv2d1_depthwise (Conv2D): kernel larger than the padded input"),
    ((8, 8, 3), {"type": "SqueezeExcite", "ratio": 0.5, "squeeze_units": 2},
     "model[0].squeeze_units: give ratio or squeeze_units, not both"),
    ((8, 8, 3), {"type": "InvertedResidual", "filters": 3, "kernel_size": 4},
     "model[0].kernel_size: kernel_size must be odd (received 4)"),
    ((8, 8, 3), {"type": "InvertedResidual", "filters": 3, "expansion": 0.1},
     "model[0].expansion: expansion 0.1 of 3 channels leaves no hidden channel"),
    ((5,), {"type": "ClassToken"}, "model[0].inputs: ClassToken needs a (tokens, features) sequence"),
    ((5, 4), {"type": "SeparableConv2D", "filters": 2, "kernel_size": 3, "strides": 0},
     "model[0].strides"),
])
def test_validation_errors_name_the_block_field(shape, entry, want):
    msgs = _errors(shape, [entry])
    assert any(m.startswith(want) for m in msgs), msgs


def test_a_part_name_taken_by_another_node_is_an_error():
    msgs = _errors((8, 8, 3), [{"type": "Conv2D", "filters": 3, "kernel_size": 1, "name": "blk_conv1"},
                               {"type": "ResidualBlock", "filters": 3, "name": "blk"}])
    assert any(m.startswith("model[1].name: its parts' names ['blk_conv1'] are taken") for m in msgs), msgs
