"""ONNX import of LSTM/GRU: graphs written by torch.onnx (TorchScript and dynamo), xnn's own
export of the registry cases, and the forms xnn refuses (each with a clear FormatError)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tests.parity.harness import all_cases, case_input, case_spec
from xnn.errors import FormatError
from xnn.init import init_params
from xnn.interop.onnx import export_onnx, import_onnx
from xnn.reference import forward
from xnn.spec import from_dict

from ._onnx_util import RNN_IMPORT_MISSING_CASES, ort_run

if TYPE_CHECKING:
    import torch

T_STEPS, FEATS, HID = 6, 3, 5


def _torch_model(cell: str, layers: int, bidir: bool, head: str) -> "torch.nn.Module":
    """``head``: "last" = Linear on ``y[:, -1]``; "h_n" = Linear on ``h_n[-1]``; "seq" = the sequence."""
    import torch
    from torch import nn

    torch.manual_seed(layers * 10 + bidir)
    rnn_cls = {"LSTM": nn.LSTM, "GRU": nn.GRU}[cell]

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = rnn_cls(FEATS, HID, num_layers=layers, bidirectional=bidir, batch_first=True)
            self.fc = nn.Linear(HID * (2 if bidir else 1), 4)

        def forward(self, x: "torch.Tensor") -> "torch.Tensor":
            y, st = self.rnn(x)
            if head == "seq":
                return y
            if head == "h_n":
                h = st[0] if cell == "LSTM" else st
                return self.fc(h[-1])
            return self.fc(y[:, -1])

    net = Net().eval()
    with torch.no_grad():  # weights/biases large enough that a wrong gate order or bias split shows
        for p in net.rnn.parameters():
            p.uniform_(-0.8, 0.8)
    return net


def _export(net: "torch.nn.Module", path: Path, dynamo: bool) -> None:
    import torch

    x = torch.randn(2, T_STEPS, FEATS)
    if dynamo:
        torch.onnx.export(net, (x,), str(path), input_names=["x"], output_names=["y"], dynamo=True,
                          dynamic_shapes={"x": {0: torch.export.Dim("N", min=1, max=64)}})
    else:
        torch.onnx.export(net, (x,), str(path), input_names=["x"], output_names=["y"], dynamo=False,
                          dynamic_axes={"x": {0: "N"}})


def _canonical_from_torch(net: "torch.nn.Module", cell: str, layers: int, bidir: bool) -> dict[str, np.ndarray]:
    """xnn's canonical weights of the torch RNN: PyTorch's layout and parameters, both biases."""
    sd = {k: v.detach().double().numpy() for k, v in net.rnn.state_dict().items()}
    out = {}
    for k in range(layers):
        for s in ["", "_reverse"][: 1 + bidir]:
            out[f"weight_ih_l{k}{s}"] = sd[f"weight_ih_l{k}{s}"]
            out[f"weight_hh_l{k}{s}"] = sd[f"weight_hh_l{k}{s}"]
            out[f"bias_ih_l{k}{s}"] = sd[f"bias_ih_l{k}{s}"]
            out[f"bias_hh_l{k}{s}"] = sd[f"bias_hh_l{k}{s}"]
    return out


TORCH_CONFIGS = [(c, layers, bidir, head) for c in ("LSTM", "GRU") for layers, bidir, head in
                 [(1, False, "last"), (2, False, "last"), (1, False, "h_n"), (1, True, "seq"), (2, True, "seq"),
                  (2, False, "seq")]]


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
@pytest.mark.parametrize("cell,layers,bidir,head", TORCH_CONFIGS,
                         ids=[f"{c}-{n}l-{'bi' if b else 'uni'}-{h}" for c, n, b, h in TORCH_CONFIGS])
def test_import_torch_rnn(cell, layers, bidir, head, dynamo, tmp_path) -> None:
    import torch

    net = _torch_model(cell, layers, bidir, head)
    path = tmp_path / "rnn.onnx"
    _export(net, path, dynamo)
    sd, params = import_onnx(path)
    spec = from_dict(sd)
    rnn_nodes = [n for n in spec.nodes if n.kind == cell]
    assert len(rnn_nodes) == 1, [n.kind for n in spec.nodes]
    layer = rnn_nodes[0].layer
    assert (layer.num_layers, layer.bidirectional, layer.units) == (layers, bidir, HID)
    assert layer.output == ("sequences" if head == "seq" else "last")
    # canonical weights: exactly torch's (LSTM: b_ih + b_hh, summed in float64 from float32)
    want = _canonical_from_torch(net, cell, layers, bidir)
    got = {k.split(".", 1)[1]: v for k, v in params.items() if k.startswith(rnn_nodes[0].name + ".")}
    assert set(got) == set(want)
    for k in want:
        np.testing.assert_array_equal(got[k], want[k], err_msg=k)
    x = np.random.default_rng(2).normal(size=(3, T_STEPS, FEATS)).astype(np.float32)
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).double().numpy()
    out = forward(spec, params, x.astype(np.float64))
    tol = 1e-5 * max(1.0, float(np.abs(ref).max()))
    np.testing.assert_allclose(out, ref, rtol=0, atol=tol)
    np.testing.assert_allclose(ort_run(path, x), ref, rtol=0, atol=tol)  # the file itself agrees too


RNN_CASES = [c for c in all_cases() if c[0] in ("LSTM", "GRU")]


@pytest.mark.parametrize("kind,case,cid", RNN_CASES, ids=[c[2] for c in RNN_CASES])
def test_xnn_export_roundtrip(kind, case, cid, tmp_path) -> None:
    spec = case_spec(kind, case, "float32")
    params = init_params(spec, seed=4)
    path = export_onnx(spec, params, tmp_path / "m.onnx")
    if cid in RNN_IMPORT_MISSING_CASES:  # the graph alone does not read back (masks, states)...
        import onnx

        m = onnx.load(str(path))
        keep = [p for p in m.metadata_props if p.key != "xnn_spec"]
        del m.metadata_props[:]
        m.metadata_props.extend(keep)
        onnx.save(m, str(tmp_path / "bare.onnx"))
        with pytest.raises(FormatError):
            import_onnx(tmp_path / "bare.onnx")
    # ...and xnn's own file restores its stored spec, checked against the graph (importer/restore.py)
    sd, back = import_onnx(path)
    spec2 = from_dict(sd)
    assert [n.kind for n in spec2.nodes] == [n.kind for n in spec.nodes]
    node, node2 = spec.nodes[-1].layer, spec2.nodes[-1].layer
    for f in ("units", "num_layers", "bidirectional", "merge", "output"):
        assert getattr(node2, f) == getattr(node, f), f
    assert set(back) == set(params)
    for k in params:  # exact: the file holds float32 values, B = [bias_ih, bias_hh]
        np.testing.assert_array_equal(back[k], params[k].astype(np.float32), err_msg=k)
    x = case_input(spec, case)
    f32 = {k: v.astype(np.float32).astype(np.float64) for k, v in params.items()}
    np.testing.assert_allclose(forward(spec2, back, x), forward(spec, f32, x), rtol=1e-12, atol=1e-12)
    ref = forward(spec, f32, x)
    np.testing.assert_allclose(ort_run(path, x.astype(np.float32)), ref, rtol=0,
                               atol=1e-5 * max(1.0, float(np.abs(ref).max())))


# ------------------------------------------------------------------------- refusals
def _handmade(path: Path, op: str, attrs: dict | None = None, init_h: np.ndarray | None = None,
              peep: np.ndarray | None = None, seq_lens: bool = False) -> None:
    """Batch-first input -> Transpose -> one ONNX LSTM/GRU -> Y_h reshaped to (N, H)."""
    rng = np.random.default_rng(0)
    g = 4 if op == "LSTM" else 3
    inits = {"W": rng.normal(size=(1, g * HID, FEATS)), "R": rng.normal(size=(1, g * HID, HID)),
             "B": rng.normal(size=(1, 2 * g * HID)), "shape": np.array([0, -1], np.int64)}
    ins = ["xt", "W", "R", "B", "", ""]
    if seq_lens:
        inits["lens"] = np.full(2, T_STEPS, np.int32)
        ins[4] = "lens"
    if init_h is not None:
        inits["h0"] = init_h
        ins[5] = "h0"
    if peep is not None:
        inits["P"] = peep
        ins += ["", "P"]
    while ins[-1] == "":
        ins.pop()
    attrs = {"hidden_size": HID, **({"linear_before_reset": 1} if op == "GRU" else {}), **(attrs or {})}
    nodes = [helper.make_node("Transpose", ["x"], ["xt"], perm=[1, 0, 2]),
             helper.make_node(op, ins, ["y", "yh"], name="rnn0", **attrs),
             helper.make_node("Transpose", ["yh"], ["yht"], perm=[1, 0, 2]),
             helper.make_node("Reshape", ["yht", "shape"], ["out"])]
    tensors = [numpy_helper.from_array(v if v.dtype.kind == "i" else v.astype(np.float32), k) for k, v in inits.items()]
    x_info = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, T_STEPS, FEATS])
    graph = helper.make_graph(nodes, "hand", [x_info],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [2, HID])], initializer=tensors)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


@pytest.mark.parametrize("op", ["LSTM", "GRU"])
def test_handmade_forward_graph_imports(op, tmp_path) -> None:
    """The handmade graph the refusals vary is itself importable (so the refusals test one thing);
    a zero initial state is ignored."""
    path = tmp_path / "ok.onnx"
    _handmade(path, op, init_h=np.zeros((1, 2, HID)))
    sd, params = import_onnx(path)
    spec = from_dict(sd)
    x = np.random.default_rng(1).normal(size=(2, T_STEPS, FEATS)).astype(np.float32)
    ref = ort_run(path, x)
    np.testing.assert_allclose(forward(spec, params, x.astype(np.float64)), ref, rtol=0, atol=1e-5)


REFUSALS = [
    ("GRU", {"attrs": {"linear_before_reset": 0}}, "linear_before_reset=0"),
    ("GRU", {"init_h": np.full((1, 2, HID), 0.5)}, "non-zero initial_h"),
    ("LSTM", {"init_h": np.full((1, 2, HID), 0.5)}, "non-zero initial_h"),
    ("LSTM", {"peep": np.ones((1, 3 * HID))}, "non-zero P (peephole weights)"),
    ("LSTM", {"attrs": {"clip": 3.0}}, "clip=3.0"),
    ("LSTM", {"attrs": {"activations": ["Sigmoid", "Relu", "Tanh"]}}, "activations"),
    ("GRU", {"attrs": {"activations": ["HardSigmoid", "Tanh"]}}, "activations"),
    ("LSTM", {"attrs": {"direction": "reverse"}}, "direction='reverse'"),
    ("LSTM", {"attrs": {"input_forget": 1}}, "input_forget=1"),
    ("GRU", {"seq_lens": True}, "sequence_lens"),
]


@pytest.mark.parametrize("op,kw,words", REFUSALS, ids=[f"{o}-{w.split()[0]}" for o, _, w in REFUSALS])
def test_refusals_name_the_node(op, kw, words, tmp_path) -> None:
    path = tmp_path / "bad.onnx"
    _handmade(path, op, **kw)
    with pytest.raises(FormatError) as e:
        import_onnx(path)
    msg = str(e.value)
    assert "'rnn0'" in msg and f"({op})" in msg and str(path) in msg and words in msg, msg


def test_bidirectional_last_step_is_refused(tmp_path) -> None:
    """``y[:, -1]`` of a bidirectional RNN mixes the reverse direction after one step: no xnn output."""
    path = tmp_path / "bi_last.onnx"
    _export(_torch_model("LSTM", 1, True, "last"), path, dynamo=False)
    with pytest.raises(FormatError, match="last time step of bidirectional RNN node"):
        import_onnx(path)


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
def test_final_state_of_a_lower_stacked_layer_is_refused(dynamo, tmp_path) -> None:
    """``h_n`` of a 2-layer torch LSTM concatenates every layer's Y_h; xnn returns the last layer's only."""
    path = tmp_path / "h2.onnx"
    _export(_torch_model("LSTM", 2, False, "h_n"), path, dynamo)
    with pytest.raises(FormatError, match=r"stacked layer 1 of RNN node '\w+' \(which has 2 layers\)"):
        import_onnx(path)


@pytest.mark.parametrize("dynamo", [False, True], ids=["torchscript", "dynamo"])
def test_sequence_and_state_read_together(dynamo, tmp_path) -> None:
    """``y[:, -1] + h_n[0]`` of a unidirectional GRU reads one xnn output twice (both are the last state)."""
    import torch
    from torch import nn

    class Both(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.GRU(FEATS, HID, batch_first=True)

        def forward(self, x: "torch.Tensor") -> "torch.Tensor":
            y, h = self.rnn(x)
            return y[:, -1] + h[0]

    torch.manual_seed(3)
    net = Both().eval()
    path = tmp_path / "both.onnx"
    _export(net, path, dynamo)
    sd, params = import_onnx(path)
    spec = from_dict(sd)
    assert [n.kind for n in spec.nodes] == ["GRU", "Add"] and spec.nodes[0].layer.output == "last"
    x = np.random.default_rng(4).normal(size=(3, T_STEPS, FEATS)).astype(np.float32)
    with torch.no_grad():
        ref = net(torch.from_numpy(x)).double().numpy()
    np.testing.assert_allclose(forward(spec, params, x.astype(np.float64)), ref, rtol=0, atol=1e-5)
