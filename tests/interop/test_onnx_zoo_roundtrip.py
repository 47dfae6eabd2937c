"""Every zoo model's ONNX export imports back into xnn at opsets 13, 17 and the newest ONNX Runtime
runs: the imported model (xnn's NumPy reference) matches ONNX Runtime on the original file, and it
is the same model (node kinds, weight names, the weights' float32 values).

Most zoo graphs read back layer by layer. ViT-tiny's do not (MultiHeadAttention's MatMul/Softmax
pattern, ClassToken's Expand + Concat, PositionalEmbedding's Add of a table): its import is the spec
stored in the file's ``xnn_spec``, taken only because exporting it again reproduces the file
(importer/restore.py), so an edited file is read from its graph (and refused here). Below opset 20
GELU is written out (0.5·x·(1 + Erf(x/√2)), or the tanh form); the importer folds both back into
one Activation, also in torch.onnx's operand order, and leaves near misses alone.
"""
from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from xnn.errors import FormatError
from xnn.init import init_params
from xnn.interop.onnx import export_onnx
from xnn.interop.onnx.export import target_opset
from xnn.interop.onnx.importer import import_onnx, import_onnx_full, to_onnx_output, to_xnn_input
from xnn.reference import forward
from xnn.spec import from_dict, load_spec
from xnn.zoo import entries

from ._onnx_util import ort_run

ZOO = entries()
OPSETS = sorted({13, 17, target_opset("onnxruntime")})


def _close(got, want, what):
    """rel 1e-5 in float32 (ONNX Runtime's float32 against the float64 reference on float32 weights)."""
    scale = max(1.0, float(np.abs(want).max()))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * scale, err_msg=what)


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("entry", ZOO, ids=[e.name for e in ZOO])
def test_zoo_export_imports_back_as_the_same_model(entry, opset, tmp_path):
    spec = load_spec(entry.path)
    params = init_params(spec, seed=3)
    path = export_onnx(spec, params, tmp_path / "m.onnx", opset=opset)
    sd, back, info = import_onnx_full(path)
    spec2 = from_dict(sd)
    assert [n.kind for n in spec2.nodes] == [n.kind for n in spec.nodes]
    assert set(back) == set(params)
    for k in params:  # float32 in the file: exactly the float32 values of the originals
        np.testing.assert_array_equal(back[k], params[k].astype(np.float32), err_msg=k)
    # ViT-tiny is read from the verified xnn_spec (see the module docstring); the others layer by layer
    assert ("model" in info["restored"]) == (entry.name == "vit_tiny")
    if entry.name == "vit_tiny":
        assert sd["model"] == spec.raw["model"]
    x = np.random.default_rng(1).normal(size=(2, *spec.input_shape)).astype(np.float32)
    want = ort_run(path, x)
    got = to_onnx_output(forward(spec2, back, to_xnn_input(x.astype(np.float64), info)), info)
    _close(got, want, f"{entry.name} at opset {opset}")


def test_an_edited_xnn_file_is_read_from_its_graph(tmp_path):
    """ViT-tiny with its attention scale changed after export: the stored spec no longer reproduces the
    graph, so the graph import runs (and refuses the ClassToken's Concat) instead of the stored spec."""
    spec = load_spec(next(e.path for e in ZOO if e.name == "vit_tiny"))
    path = export_onnx(spec, init_params(spec, seed=3), tmp_path / "m.onnx", opset=17)
    m = onnx.load(str(path))
    for t in m.graph.initializer:
        if t.name == "block1_attn.scale":
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t) * np.float32(1.01), t.name))
    onnx.save(m, str(tmp_path / "edited.onnx"))
    with pytest.raises(FormatError, match="Concat"):
        import_onnx(tmp_path / "edited.onnx")


def test_a_stored_spec_larger_than_the_file_is_not_tried(tmp_path, monkeypatch):
    """A small file whose xnn_spec claims a model with more weights than its initializers hold: the
    fallback refuses before building probe weights for it (bounded by the file), and the graph
    import's error stands."""
    import json

    spec = load_spec(next(e.path for e in ZOO if e.name == "vit_tiny"))
    path = export_onnx(spec, init_params(spec, seed=3), tmp_path / "m.onnx", opset=17)
    m = onnx.load(str(path))
    big = {"input": {"shape": [3000]}, "model": [{"type": "Dense", "units": 3000}]}  # 9M weights
    for p in m.metadata_props:
        if p.key == "xnn_spec":
            p.value = json.dumps(big)
    onnx.save(m, str(tmp_path / "claims_big.onnx"))
    calls = []
    monkeypatch.setattr("xnn.interop.onnx.export.build_model",
                        lambda *a, **k: calls.append(a) or (_ for _ in ()).throw(AssertionError("built")))
    with pytest.raises(FormatError, match="Concat"):
        import_onnx(tmp_path / "claims_big.onnx")
    assert calls == []


# --- GELU written out below opset 20 --------------------------------------------------------------

def _torch_gelu_file(tmp_path, approximate: str, opset: int):
    import torch
    from torch import nn

    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(5, 4), nn.GELU(approximate=approximate), nn.Linear(4, 3)).eval()
    f = tmp_path / f"gelu_{approximate}_{opset}.onnx"
    torch.onnx.export(m, (torch.randn(2, 5),), str(f), opset_version=opset, dynamo=False,
                      input_names=["input"], dynamic_axes={"input": {0: "N"}})
    return f


@pytest.mark.parametrize("opset", [13, 17])
@pytest.mark.parametrize("approximate,fn", [("none", "gelu"), ("tanh", "gelu_tanh")])
def test_torch_onnx_gelu_imports_as_one_activation(approximate, fn, opset, tmp_path):
    f = _torch_gelu_file(tmp_path, approximate, opset)
    ops = [n.op_type for n in onnx.load(str(f)).graph.node]
    assert ("Erf" if fn == "gelu" else "Tanh") in ops and "Gelu" not in ops
    sd, back = import_onnx(f)
    s2 = from_dict(sd)
    assert [(n.kind, getattr(n.layer, "fn", None)) for n in s2.nodes] == [("Dense", None), ("Activation", fn),
                                                                          ("Dense", None)]
    x = np.random.default_rng(0).normal(size=(3, 5))
    _close(forward(s2, back, x), ort_run(f, x.astype(np.float32)), f"torch {fn} at {opset}")


@pytest.mark.parametrize("fn", ["gelu", "gelu_tanh"])
def test_xnn_gelu_below_20_imports_as_one_activation(fn, tmp_path):
    spec = from_dict({"xnn": 1, "name": "g", "input": {"shape": [5]}, "model": [
        {"type": "Dense", "name": "d", "units": 4}, {"type": "Activation", "name": "act", "fn": fn},
        {"type": "Dense", "name": "o", "units": 3}]})
    params = init_params(spec, seed=1)
    f = export_onnx(spec, params, tmp_path / "m.onnx", opset=13)
    m = onnx.load(str(f))
    del m.metadata_props[:]  # a foreign file: the graph import alone
    onnx.save(m, str(f))
    sd, back = import_onnx(f)
    s2 = from_dict(sd)
    assert [(n.kind, n.name, getattr(n.layer, "fn", None)) for n in s2.nodes] == [
        ("Dense", "d", None), ("Activation", "act", fn), ("Dense", "o", None)]
    assert set(back) == set(params)


def _erf_graph(tmp_path, sqrt2=2.0 ** 0.5, one=1.0, half=0.5, torch_order=True, extra_reader=False,
               lone=False):
    """x -> Div(x, sqrt2) -> Erf -> Add(., one) -> 0.5·x·(.) -> output, as torch.onnx writes it (or xnn)."""
    c = lambda name, v: numpy_helper.from_array(np.asarray(v, np.float32), name)
    nodes = [helper.make_node("Div", ["input", "sqrt2"], ["d"], name="g/Div"),
             helper.make_node("Erf", ["d"], ["e"], name="g/Erf")]
    if lone:
        nodes.append(helper.make_node("Relu", ["e"], ["output"], name="g/Relu"))
    else:
        nodes.append(helper.make_node("Add", ["e", "one"], ["p"], name="g/Add"))
        if torch_order:
            nodes += [helper.make_node("Mul", ["input", "p"], ["m"], name="g/Mul"),
                      helper.make_node("Mul", ["m", "half"], ["y"], name="g/Mul_1")]
        else:
            nodes += [helper.make_node("Mul", ["half", "input"], ["m"], name="g/Mul"),
                      helper.make_node("Mul", ["p", "m"], ["y"], name="g/Mul_1")]
        if extra_reader:  # 1 + erf(x/√2) read twice: not GELU alone
            nodes.append(helper.make_node("Add", ["y", "p"], ["output"], name="g/Add_1"))
        else:
            nodes.append(helper.make_node("Relu", ["y"], ["output"], name="g/Relu"))
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["N", 4])],
                          [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["N", 4])],
                          initializer=[c("sqrt2", sqrt2), c("one", one), c("half", half)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    f = tmp_path / "erf.onnx"
    onnx.save(m, str(f))
    return f


@pytest.mark.parametrize("torch_order", [True, False])
def test_erf_expression_folds_in_either_order(torch_order, tmp_path):
    f = _erf_graph(tmp_path, torch_order=torch_order)
    sd, back = import_onnx(f)
    s2 = from_dict(sd)
    assert [(n.kind, getattr(n.layer, "fn", None)) for n in s2.nodes] == [("Activation", "gelu"), ("Activation", "relu")]
    x = np.random.default_rng(0).normal(size=(3, 4))
    _close(forward(s2, back, x), ort_run(f, x.astype(np.float32)), "erf gelu")


@pytest.mark.parametrize("near_miss", [{"sqrt2": 1.41}, {"one": 1.001}, {"half": 0.25}, {"extra_reader": True},
                                       {"lone": True}], ids=["sqrt2", "one", "half", "shared", "lone"])
def test_near_miss_erf_is_refused_not_folded(near_miss, tmp_path):
    f = _erf_graph(tmp_path, **near_miss)
    with pytest.raises(FormatError, match="Erf imports only as part of exact GELU"):
        import_onnx(f)
