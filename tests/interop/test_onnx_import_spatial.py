"""ONNX import of the spatial ops: ConvTranspose, Resize/Upsample, a standalone Pad, Slice as a
crop, GlobalMaxPool/ReduceMax. xnn's own exports of every ConvTranspose/UpSampling/ZeroPadding/
Cropping/GlobalMaxPool case come back as the same layers with the same fields; hand-built graphs
of each op (the forms other exporters write) match ONNX Runtime; torch.onnx exports of the torch
modules import; every form xnn cannot express is refused with the reason."""
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

KINDS = ("ConvTranspose1D", "ConvTranspose2D", "UpSampling1D", "UpSampling2D", "ZeroPadding1D", "ZeroPadding2D",
         "Cropping1D", "Cropping2D", "GlobalMaxPool1D", "GlobalMaxPool2D")
CASES = [c for c in all_cases() if c[0] in KINDS]


@pytest.mark.parametrize("opset", [13, 17, max_opset()])
@pytest.mark.parametrize("kind,case,cid", CASES, ids=[c[2] for c in CASES])
def test_export_import_roundtrip(kind, case, cid, opset, tmp_path):
    spec = case_spec(kind, case, "float32")
    params = init_params(spec, seed=4)
    path = export_onnx(spec, params, tmp_path / "m.onnx", opset=opset)
    sd, back = import_onnx(path)
    spec2 = from_dict(sd)
    assert [n.kind for n in spec2.nodes] == [kind]
    n1, n2 = spec.nodes[0], spec2.nodes[0]
    assert n2.out_shape == n1.out_shape
    if kind.startswith("ConvTranspose"):  # the same cut of the full output, however it is spelt
        g1, g2 = n1.layer.geometry(n1.in_shapes[0]), n2.layer.geometry(n2.in_shapes[0])
        assert g1[:3] == g2[:3] and g1[4] == g2[4] and n1.layer.groups == n2.layer.groups
    elif kind.startswith(("ZeroPadding", "Cropping")):
        assert n1.layer.pairs() == n2.layer.pairs()
    elif kind.startswith("UpSampling"):
        assert n1.layer.factors() == n2.layer.factors() and n1.layer.method == n2.layer.method
    for k in params:
        np.testing.assert_array_equal(back[k.replace("node.", f"{n2.name}.")], params[k].astype(np.float32), err_msg=k)
    x = case_input(spec, case)
    f32 = {k: v.astype(np.float32).astype(np.float64) for k, v in params.items()}
    np.testing.assert_allclose(forward(spec2, back, x), forward(spec, f32, x), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ hand-built graphs
def _model(path, nodes, in_shape, inits=(), opset=17, in_name="x", out_name="y"):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(in_name, TensorProto.FLOAT, ["N", *in_shape])],
                          [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, None)],
                          initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in inits])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = min(m.ir_version, 8)
    m = onnx.shape_inference.infer_shapes(m, strict_mode=True)  # fills in the output's shape
    onnx.checker.check_model(m)
    onnx.save(m, str(path))
    return path


def _check(path, in_shape, kinds=None, seed=1, cf_out=True):
    """Import ``path`` (NCHW input), compare with ONNX Runtime; returns the spec dict."""
    sd, params = import_onnx(path)
    spec = from_dict(sd)
    if kinds is not None:
        assert [n.kind for n in spec.nodes] == kinds, [n.kind for n in spec.nodes]
    xn = np.random.default_rng(seed).normal(size=(2, *in_shape)).astype(np.float32)
    want = ort_run(path, xn)
    xin = np.moveaxis(xn, 1, -1) if len(in_shape) >= 2 and spec.input_shape != tuple(in_shape) else xn
    got = forward(spec, params, xin.astype(np.float64))
    if got.ndim >= 3 and cf_out:  # these graphs end channels-first; the xnn output is channels-last
        got = np.moveaxis(got, -1, 1)
    assert got.shape == want.shape, (got.shape, want.shape)
    assert_close(got, want, "float32", str(path))
    return sd


def _f(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def _i(v):
    return np.asarray(v, dtype=np.int64)


def _conv(cin, cout, k=1):
    """A Conv in front, so the graph input is channels-first (as torch's are)."""
    return (helper.make_node("Conv", ["x", "cw"], ["c"], kernel_shape=[k] * 2 if isinstance(k, int) else k),
            ("cw", _f(cout, cin, *([k] * 2 if isinstance(k, int) else k), seed=9)))


@pytest.mark.parametrize("attrs,want", [
    ({"pads": [1, 0, 1, 0], "output_padding": [1, 0], "strides": [2, 1]}, {"padding": [1, 0], "output_padding": [1, 0]}),
    ({"auto_pad": "SAME_UPPER", "strides": [2, 2]}, {"padding": "same"}),
    ({"auto_pad": "SAME_LOWER", "strides": [2, 2]}, {"padding": [1, 1], "output_padding": [1, 1]}),
    ({"output_shape": [8, 7], "strides": [2, 2]}, {"padding": [1, 0], "output_padding": [1, 0]}),
    ({"auto_pad": "VALID", "strides": [3, 3]}, {"padding": "valid"}),
    ({"strides": [2, 2], "dilations": [2, 1], "group": 2, "pads": [2, 1, 2, 1]}, {"groups": 2, "padding": [2, 1]}),
], ids=["pads_outpad", "same_upper", "same_lower", "output_shape", "valid_s3", "dilated_groups"])
def test_conv_transpose_forms(attrs, want, tmp_path):
    g = attrs.get("group", 1)
    nodes = [helper.make_node("ConvTranspose", ["x", "w", "b"], ["y"], kernel_shape=[3, 3], **attrs)]
    path = _model(tmp_path / "ct.onnx", nodes, [4, 4, 3],
                  [("w", _f(4, 6 // g, 3, 3)), ("b", _f(6, seed=2))])
    sd = _check(path, [4, 4, 3], ["ConvTranspose2D"])
    node = sd["model"][0]
    assert node["filters"] == 6
    for k, v in (want or {}).items():
        assert node[k] == v, (k, node[k])


def test_conv_transpose_1d_bias_added_after(tmp_path):
    """A bias-less ConvTranspose followed by Add of a (C, 1) constant: the Add is its bias."""
    nodes = [helper.make_node("ConvTranspose", ["x", "w"], ["t"], kernel_shape=[4], strides=[3], pads=[1, 1]),
             helper.make_node("Add", ["t", "b"], ["y"])]
    path = _model(tmp_path / "ct1.onnx", nodes, [3, 5], [("w", _f(3, 2, 4)), ("b", _f(2, 1, seed=3))])
    sd = _check(path, [3, 5], ["ConvTranspose1D"])
    assert sd["model"][0]["use_bias"] is True and sd["model"][0]["padding"] == [1]


def test_conv_transpose_unexpressible_pads_refused(tmp_path):
    nodes = [helper.make_node("ConvTranspose", ["x", "w"], ["y"], kernel_shape=[3, 3], strides=[2, 2],
                              pads=[0, 0, 2, 2])]
    path = _model(tmp_path / "bad.onnx", nodes, [2, 4, 4], [("w", _f(2, 3, 3, 3))])
    with pytest.raises(FormatError, match="cut .* cells from the full output"):
        import_onnx(path)


def _resize(path, mode, ctm=None, nearest=None, scales=None, sizes=None, shape=(3, 4, 5), opset=17):
    attrs = {"mode": mode}
    if ctm:
        attrs["coordinate_transformation_mode"] = ctm
    if nearest:
        attrs["nearest_mode"] = nearest
    inits = [("roi", np.zeros(0, np.float32))]
    ins = ["c", "roi"]
    if scales is not None:
        inits.append(("scales", np.asarray(scales, np.float32)))
        ins.append("scales")
    else:
        ins.append("")
    if sizes is not None:
        inits.append(("sizes", _i(sizes)))
        ins.append("sizes")
    conv, w = _conv(shape[0], shape[0])
    return _model(path, [conv, helper.make_node("Resize", ins, ["y"], **attrs)], list(shape), [w, *inits],
                  opset=opset)


@pytest.mark.parametrize("form,want", [
    (dict(mode="nearest", ctm="asymmetric", nearest="floor", scales=[1, 1, 3, 2]), ("nearest", [3, 2])),
    (dict(mode="nearest", scales=[1, 1, 2, 3]), ("nearest", [2, 3])),  # Resize-11 defaults: half_pixel + round
    (dict(mode="nearest", ctm="asymmetric", nearest="floor", sizes=[2, 3, 8, 10]), ("nearest", [2, 2])),
    (dict(mode="linear", ctm="half_pixel", scales=[1, 1, 2, 3]), ("bilinear", [2, 3])),
    (dict(mode="linear", ctm="pytorch_half_pixel", scales=[1, 1, 3, 1]), ("bilinear", [3, 1])),
    (dict(mode="linear", scales=[1, 1, 4, 2], opset=13), ("bilinear", [4, 2])),
], ids=["nearest_floor", "nearest_defaults", "nearest_sizes", "bilinear", "bilinear_pytorch_hp", "bilinear_default13"])
def test_resize_forms(form, want, tmp_path):
    sd = _check(_resize(tmp_path / "r.onnx", **form), [3, 4, 5], ["Conv2D", "UpSampling2D"])
    up = sd["model"][1]
    assert (up["interpolation"], up["size"]) == want


@pytest.mark.parametrize("form,match", [
    (dict(mode="linear", ctm="align_corners", scales=[1, 1, 2, 2]), "does not give xnn's upsampling"),
    (dict(mode="linear", ctm="asymmetric", scales=[1, 1, 2, 2]), "half-pixel centres"),
    (dict(mode="nearest", ctm="asymmetric", nearest="round_prefer_floor", scales=[1, 1, 3, 3]), "o // s"),
    (dict(mode="cubic", scales=[1, 1, 2, 2]), "mode 'cubic'"),
    (dict(mode="nearest", scales=[1, 1, 0.5, 1]), "integer factors"),
    (dict(mode="nearest", scales=[1, 1, 1.5, 2]), "integer factors"),
    (dict(mode="nearest", scales=[1, 2, 2, 2]), "channel"),
], ids=["align_corners", "asymmetric_linear", "nearest_round_s3", "cubic", "downscale", "fractional", "channels"])
def test_resize_refused(form, match, tmp_path):
    with pytest.raises(FormatError, match=match):
        import_onnx(_resize(tmp_path / "r.onnx", **form))


def test_resize_1d_nearest_and_opset10(tmp_path):
    conv = helper.make_node("Conv", ["x", "cw"], ["c"], kernel_shape=[1])
    r = helper.make_node("Resize", ["c", "roi", "scales"], ["y"], mode="nearest", coordinate_transformation_mode="asymmetric",
                         nearest_mode="floor")
    path = _model(tmp_path / "r1.onnx", [conv, r], [2, 5],
                  [("cw", _f(3, 2, 1)), ("roi", np.zeros(0, np.float32)), ("scales", np.asarray([1, 1, 3], np.float32))])
    sd = _check(path, [2, 5], ["Conv1D", "UpSampling1D"])
    assert sd["model"][1]["size"] == 3
    # Resize-10 (X, scales; asymmetric coordinates) and Upsample-9: nearest is the repeat
    conv2, w = _conv(3, 3)
    for op, opset in (("Resize", 10), ("Upsample", 9)):
        node = helper.make_node(op, ["c", "scales"], ["y"], mode="nearest")
        path = _model(tmp_path / f"{op}.onnx", [conv2, node], [3, 4, 5],
                      [w, ("scales", np.asarray([1, 1, 2, 3], np.float32))], opset=opset)
        sd = _check(path, [3, 4, 5], ["Conv2D", "UpSampling2D"])
        assert sd["model"][1]["size"] == [2, 3]
        bad = helper.make_node(op, ["c", "scales"], ["y"], mode="linear")
        path = _model(tmp_path / f"{op}_lin.onnx", [conv2, bad], [3, 4, 5],
                      [w, ("scales", np.asarray([1, 1, 2, 2], np.float32))], opset=opset)
        with pytest.raises(FormatError, match="half-pixel"):  # asymmetric linear is not xnn's bilinear
            import_onnx(path)


def _pad_model(path, pads, opset=17, axes=None, mode="constant", value=None, then=None, shape=(2, 4, 5)):
    conv, w = _conv(shape[0], 3)
    ins = ["c", "pads"]
    inits = [w, ("pads", _i(pads))]
    if value is not None or axes is not None:
        ins.append("v" if value is not None else "")
        if value is not None:
            inits.append(("v", np.asarray(value, np.float32)))
    if axes is not None:
        ins.append("axes")
        inits.append(("axes", _i(axes)))
    nodes = [conv, helper.make_node("Pad", ins, ["p" if then else "y"], mode=mode)]
    if then is not None:
        nodes += then(inits)
    return _model(path, nodes, list(shape), inits, opset=opset)


def test_standalone_pad_is_zero_padding(tmp_path):
    sd = _check(_pad_model(tmp_path / "p.onnx", [0, 0, 1, 2, 0, 0, 0, 3]), [2, 4, 5], ["Conv2D", "ZeroPadding2D"])
    assert sd["model"][1]["padding"] == [[1, 0], [2, 3]]
    # opset 18: pads for the listed axes only; negative pads remove cells (Cropping first)
    sd = _check(_pad_model(tmp_path / "p18.onnx", [2, -1, 0, 1], opset=18, axes=[3, 2]), [2, 4, 5],
                ["Conv2D", "Cropping2D", "ZeroPadding2D"])
    assert sd["model"][1]["cropping"] == [[1, 0], [0, 0]] and sd["model"][2]["padding"] == [[0, 1], [2, 0]]


def test_pad_before_conv_folds_or_stays(tmp_path):
    def conv_after(inits):
        inits.append(("w2", _f(4, 3, 3, 3, seed=5)))
        return [helper.make_node("Conv", ["p", "w2"], ["y"], kernel_shape=[3, 3])]

    sd = _check(_pad_model(tmp_path / "sym.onnx", [0, 0, 1, 2, 0, 0, 1, 2], then=conv_after), [2, 4, 5],
                ["Conv2D", "Conv2D"])
    assert sd["model"][1]["padding"] == [1, 2]
    # asymmetric and not TF 'same': the ZeroPadding stays in front of a 'valid' Conv
    sd = _check(_pad_model(tmp_path / "asym.onnx", [0, 0, 2, 0, 0, 0, 0, 1], then=conv_after), [2, 4, 5],
                ["Conv2D", "ZeroPadding2D", "Conv2D"])
    assert sd["model"][2]["padding"] == "valid"

    def conv_and_relu(inits):  # the padded tensor is read twice: nothing is folded
        inits.append(("w2", _f(3, 3, 3, 3, seed=5)))
        return [helper.make_node("Conv", ["p", "w2"], ["q"], kernel_shape=[3, 3], pads=[0, 0, 0, 0]),
                helper.make_node("Relu", ["p"], ["r"]),
                helper.make_node("Slice", ["r", "s0", "s1", "s2"], ["rs"]),
                helper.make_node("Add", ["q", "rs"], ["y"])]

    def twice(inits):
        inits += [("s0", _i([1, 1])), ("s1", _i([-1, -1])), ("s2", _i([2, 3]))]
        return conv_and_relu(inits)

    _check(_pad_model(tmp_path / "twice.onnx", [0, 0, 1, 1, 0, 0, 1, 1], then=twice), [2, 4, 5],
           ["Conv2D", "ZeroPadding2D", "Conv2D", "Activation", "Cropping2D", "Add"])


@pytest.mark.parametrize("kw,match", [
    (dict(pads=[0, 0, 1, 1, 0, 0, 1, 1], mode="reflect"), "only zero constant padding"),
    (dict(pads=[0, 0, 1, 1, 0, 0, 1, 1], value=1.5), "only zero constant padding"),
    (dict(pads=[0, 1, 0, 0, 0, 0, 0, 0]), "batch, channel"),
], ids=["reflect", "nonzero", "channel"])
def test_pad_refused(kw, match, tmp_path):
    with pytest.raises(FormatError, match=match):
        import_onnx(_pad_model(tmp_path / "bad.onnx", **kw))


def test_pad_opset7_attributes(tmp_path):
    conv, w = _conv(2, 3)
    path = _model(tmp_path / "p7.onnx", [conv, helper.make_node("Pad", ["c"], ["y"], pads=[0, 0, 2, 1, 0, 0, 0, 1])],
                  [2, 4, 5], [w], opset=7)
    sd = _check(path, [2, 4, 5], ["Conv2D", "ZeroPadding2D"])
    assert sd["model"][1]["padding"] == [[2, 0], [1, 1]]


def _slice_model(path, starts, ends, axes=None, steps=None, opset=17, shape=(2, 6, 7)):
    conv, w = _conv(shape[0], 3)
    ins, inits = ["c", "st", "en"], [w, ("st", _i(starts)), ("en", _i(ends))]
    for name, v in (("ax", axes), ("sp", steps)):
        if v is not None:
            ins.append(name)
            inits.append((name, _i(v)))
        elif name == "ax" and steps is not None:
            ins.append("")
    return _model(path, [conv, helper.make_node("Slice", ins, ["y"])], list(shape), inits, opset=opset)


@pytest.mark.parametrize("args,want", [
    (([1, 2], [-1, 9223372036854775807], [2, 3]), [[1, 1], [2, 0]]),
    (([0, 0, 0, 3], [9223372036854775807, 3, 2**31 - 1, 5]), [[0, 0], [3, 2]]),  # every axis, batch/channels whole
    (([-4], [-1], [-1]), [[0, 0], [3, 1]]),
], ids=["two_axes", "all_axes", "negative"])
def test_slice_is_cropping(args, want, tmp_path):
    sd = _check(_slice_model(tmp_path / "s.onnx", *args), [2, 6, 7], ["Conv2D", "Cropping2D"])
    assert sd["model"][1]["cropping"] == want


@pytest.mark.parametrize("args,match", [
    (([0], [4], [2], [2]), "step 2"),
    (([0], [2], [1]), "channel axis"),
    (([1], [5], [0]), "batch axis"),
], ids=["strided", "channels", "batch"])
def test_slice_refused(args, match, tmp_path):
    with pytest.raises(FormatError, match=match):
        import_onnx(_slice_model(tmp_path / "s.onnx", *args))


def test_slice_opset9_attributes(tmp_path):
    conv, w = _conv(2, 3)
    path = _model(tmp_path / "s9.onnx", [conv, helper.make_node("Slice", ["c"], ["y"], starts=[1], ends=[4], axes=[3])],
                  [2, 6, 7], [w], opset=9)
    sd = _check(path, [2, 6, 7], ["Conv2D", "Cropping2D"])
    assert sd["model"][1]["cropping"] == [[0, 0], [1, 3]]


def test_global_max_pool_and_reduce_max(tmp_path):
    conv, w = _conv(3, 4)
    nodes = [conv, helper.make_node("GlobalMaxPool", ["c"], ["g"]), helper.make_node("Flatten", ["g"], ["f"]),
             helper.make_node("Gemm", ["f", "fw"], ["y"], transB=1)]
    _check(_model(tmp_path / "g.onnx", nodes, [3, 5, 4], [w, ("fw", _f(2, 4))]), [3, 5, 4],
                ["Conv2D", "GlobalMaxPool2D", "Dense"])
    nodes = [conv, helper.make_node("ReduceMax", ["c"], ["y"], axes=[2, 3], keepdims=0)]
    _check(_model(tmp_path / "rm.onnx", nodes, [3, 5, 4], [w], opset=13), [3, 5, 4], ["Conv2D", "GlobalMaxPool2D"])
    nodes = [conv, helper.make_node("ReduceMax", ["c", "ax"], ["y"], keepdims=1)]  # opset 18: axes as an input
    _check(_model(tmp_path / "rm18.onnx", nodes, [3, 5, 4], [w, ("ax", _i([2, 3]))], opset=18), [3, 5, 4],
           ["Conv2D", "GlobalMaxPool2D", "Reshape"], cf_out=False)  # the output keeps ONNX's (N, C, 1, 1)
    nodes = [conv, helper.make_node("ReduceMax", ["c"], ["y"], axes=[1], keepdims=0)]
    with pytest.raises(FormatError, match="global max pooling"):
        import_onnx(_model(tmp_path / "rmc.onnx", nodes, [3, 5, 4], [w], opset=13))


# ------------------------------------------------------------------ torch.onnx exports
def _torch_modules():
    import torch
    from torch import nn

    class Crop(nn.Module):
        def forward(self, x):
            return x[:, :, 1:-1, 2:]

    class Pad(nn.Module):
        def forward(self, x):
            return nn.functional.pad(x, (1, 2, 0, 3))

    torch.manual_seed(0)
    return {
        "convtranspose": (nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(),
                                        nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1, output_padding=1)), (3, 7, 6)),
        "convtranspose_groups": (nn.Sequential(nn.Conv2d(3, 4, 1), nn.ConvTranspose2d(4, 6, (2, 3), stride=(2, 1),
                                                                                       groups=2, dilation=(1, 2))), (3, 4, 5)),
        "convtranspose1d": (nn.Sequential(nn.Conv1d(2, 3, 1), nn.ConvTranspose1d(3, 2, 4, stride=3, padding=1)), (2, 6)),
        "upsample_nearest": (nn.Sequential(nn.Conv2d(3, 2, 1), nn.Upsample(scale_factor=2, mode="nearest")), (3, 4, 5)),
        "upsample_nearest3": (nn.Sequential(nn.Conv2d(3, 2, 1), nn.Upsample(scale_factor=(3, 2), mode="nearest")), (3, 4, 5)),
        "upsample_bilinear": (nn.Sequential(nn.Conv2d(3, 2, 1), nn.Upsample(scale_factor=2, mode="bilinear",
                                                                            align_corners=False)), (3, 4, 5)),
        "pad_crop_maxpool": (nn.Sequential(nn.Conv2d(3, 4, 1), Pad(), Crop(), nn.AdaptiveMaxPool2d(1), nn.Flatten(),
                                           nn.Linear(4, 2)), (3, 5, 6)),
    }


@pytest.mark.parametrize("which", list(_torch_modules()))
def test_import_torch_onnx_export(which, tmp_path):
    import torch

    module, shape = _torch_modules()[which]
    module.eval()
    path = tmp_path / f"{which}.onnx"
    torch.onnx.export(module, (torch.randn(2, *shape),), str(path), input_names=["x"], output_names=["y"],
                      dynamo=False, dynamic_axes={"x": {0: "N"}})
    _check(path, list(shape))
