"""``xnn.from_torch`` on attention: nn.MultiheadAttention (one ``xnn::MultiHeadAttention`` node
during the export, PyTorch's very weights) and nn.TransformerEncoderLayer / nn.TransformerEncoder
(MultiHeadAttention, Dropout, Add, LayerNorm, Dense, Activation: torch's own decomposition, its
three dropouts kept). Compared with the module as tests/interop/test_from_torch.py does (float64:
1e-10; float32: 1e-5 x scale), then five-path parity on the imported spec and weights; and the
importer's handler of that node refuses a malformed one in a file with one line naming it.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch  # before tensorflow (the Keras path of the parity runs) in one process (design rule)
from torch import nn

import xnn
import xnn.backends
from xnn.errors import FormatError
from xnn.interop.onnx.importer import import_onnx
from xnn.parity import run_parity

from .test_from_torch import PATHS, _import, _randomize, _tol


class SelfAttention(nn.Module):
    """A bare self-attention: query = key = value = the input."""

    def __init__(self, batch_first: bool = True, bias: bool = True):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, bias=bias, batch_first=batch_first, dropout=0.1)
        self.batch_first = batch_first

    def forward(self, x):
        if self.batch_first:
            return self.attn(x, x, x)[0]
        h = x.transpose(0, 1)  # (T, N, E), torch's default layout
        return self.attn(h, h, h, need_weights=False)[0].transpose(0, 1)


class CrossAttention(nn.Module):
    """Cross-attention on a projection of the input (key is value), kdim = vdim = 6 != embed_dim."""

    def __init__(self):
        super().__init__()
        self.kv = nn.Linear(8, 6)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True, kdim=6, vdim=6)

    def forward(self, x):
        h = self.kv(x)
        return self.attn(x, h, h, need_weights=False)[0]


class EncoderHead(nn.Module):
    """Linear embedding -> TransformerEncoderLayer (d_model 8, 2 heads, ff 16) -> mean over time -> Linear."""

    def __init__(self, norm_first: bool = False, activation: str = "relu"):
        super().__init__()
        self.emb = nn.Linear(3, 8)
        self.enc = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.1, activation=activation, batch_first=True,
                                              norm_first=norm_first, layer_norm_eps=1e-6)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        return self.fc(self.enc(self.emb(x)).mean(1))


class CausalStack(nn.Module):
    """nn.TransformerEncoder: 2 pre-norm gelu layers with a final LayerNorm, a causal mask, the last step (a Slice)."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Linear(3, 8)
        layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.2, activation="gelu", batch_first=True, norm_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, norm=nn.LayerNorm(8), enable_nested_tensor=False)
        self.fc = nn.Linear(8, 2)

    def forward(self, x):
        mask = nn.Transformer.generate_square_subsequent_mask(x.shape[1], dtype=x.dtype)
        return self.fc(self.enc(self.emb(x), mask=mask, is_causal=True)[:, -1:].flatten(1))


MODELS = [
    ("mha_self", SelfAttention, (5, 8), True),
    ("mha_seq_first_nobias", lambda: SelfAttention(False, False), (5, 8), False),
    ("mha_cross_kdim", CrossAttention, (5, 8), False),
    ("encoder_layer_post_relu", EncoderHead, (5, 3), True),
    ("encoder_layer_pre_gelu", lambda: EncoderHead(True, "gelu"), (5, 3), False),
    ("encoder_causal_stack", CausalStack, (5, 3), False),
]


@pytest.mark.parametrize("name,make,shape,parity", MODELS, ids=[m[0] for m in MODELS])
def test_attention_float64_equals_module_then_five_paths(name, make, shape, parity):
    m, x, ref, spec_dict, params, _ = _import(make, shape)
    spec = xnn.from_dict(spec_dict)
    assert spec.train.dtype == "float64"
    sd = {k: v for k, v in m.state_dict().items() if v.dtype.is_floating_point}
    assert sum(v.size for v in params.values()) == sum(v.numel() for v in sd.values())  # the module's parameters
    be = xnn.backends.get("torch")
    got = be.predict(be.build(spec, params, dtype="float64"), x)  # sequences are fed as they are
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() <= _tol(ref, torch.float64), np.abs(got - ref).max()
    assert np.abs(xnn.reference_forward(spec, params, x) - ref).max() <= _tol(ref, torch.float64)
    if parity:
        rep = run_parity(spec, params, paths=PATHS, dtype="float64", n=2, seed=3)
        bad = [(p.path, p.max_rel) for p in rep.paths if not p.ok] + [(q.a, q.b) for q in rep.pairs if not q.ok]
        assert rep.ok, bad


@pytest.mark.parametrize("name,make,shape", [(n, mk, s) for n, mk, s, _ in MODELS[::2]], ids=[m[0] for m in MODELS[::2]])
def test_attention_float32(name, make, shape):
    _, x, ref, spec_dict, params, _ = _import(make, shape, dtype=torch.float32, seed=5)
    spec = xnn.from_dict(spec_dict)
    assert spec.train.dtype == "float32"
    be = xnn.backends.get("torch")
    got = be.predict(be.build(spec, params, dtype="float32"), x)
    assert np.abs(got - ref).max() <= _tol(ref, torch.float32)


def test_weights_and_fields_are_pytorch_s():
    m = _randomize(EncoderHead().double())
    spec, params = xnn.from_torch(m, torch.zeros(2, 5, 3, dtype=torch.float64))
    nodes = {n["name"]: n for n in spec["model"]}
    attn = nodes["enc_self_attn"]
    assert attn == {"type": "MultiHeadAttention", "name": "enc_self_attn", "num_heads": 2, "use_bias": True,
                    "causal": False, "dropout": 0.1}
    sa = m.enc.self_attn
    w, b = sa.in_proj_weight.detach().numpy(), sa.in_proj_bias.detach().numpy()
    for i, k in enumerate("qkv"):
        np.testing.assert_array_equal(params[f"enc_self_attn.{k}_weight"], w[8 * i:8 * (i + 1)])
        np.testing.assert_array_equal(params[f"enc_self_attn.{k}_bias"], b[8 * i:8 * (i + 1)])
    np.testing.assert_array_equal(params["enc_self_attn.out_weight"], sa.out_proj.weight.detach().numpy())
    np.testing.assert_array_equal(params["enc_self_attn.out_bias"], sa.out_proj.bias.detach().numpy())
    # post-norm: Add then LayerNorm; torch's three dropouts (after attention, inside and after the MLP)
    assert [n["type"] for n in spec["model"]][1:12] == [
        "MultiHeadAttention", "Dropout", "Add", "LayerNorm", "Dense", "Activation", "Dropout", "Dense", "Dropout",
        "Add", "LayerNorm"]
    assert [n["rate"] for n in spec["model"] if n["type"] == "Dropout"] == [0.1, 0.1, 0.1]
    assert [n["eps"] for n in spec["model"] if n["type"] == "LayerNorm"] == [1e-6, 1e-6]
    assert m.training  # from_torch leaves the module's mode as it was
    assert torch.backends.mha.get_fastpath_enabled()  # the export turned fast paths off only while it ran


def test_attention_refusals_named():
    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(4, 2, batch_first=True, add_bias_kv=True)
            self.rnn = nn.RNN(4, 3, batch_first=True)

        def forward(self, x):
            y = self.attn(x, x, x, key_padding_mask=x[..., 0] > 0)[0]
            return self.rnn(y)[0]

    with pytest.raises(FormatError) as e:
        xnn.from_torch(Masked(), torch.zeros(2, 5, 4))
    msgs = e.value.messages
    assert any("'attn' (MultiheadAttention): key_padding_mask" in m for m in msgs), msgs
    assert any("'attn' (MultiheadAttention): add_bias_kv" in m for m in msgs), msgs
    assert any("'rnn' (RNN)" in m for m in msgs), msgs

    class Cross(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(4, 2, batch_first=True)

        def forward(self, x):
            return self.attn(x, x * 2, x * 3)[0]

    with pytest.raises(FormatError, match="key and value are different tensors"):
        xnn.from_torch(Cross(), torch.zeros(2, 5, 4))

    class UsesWeights(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(4, 2, batch_first=True)

        def forward(self, x):
            y, w = self.attn(x, x, x)
            return y + w.mean()

    with pytest.raises(FormatError, match=r"attention weights \(output 1\) are used.*'attn' \(MultiheadAttention\)"):
        xnn.from_torch(UsesWeights(), torch.zeros(2, 5, 4))


# ------------------------------------------------------------------ the node itself
def _model(num_heads=2, extra_attrs=None, q_rows=4):
    """A graph of one ``xnn::MultiHeadAttention`` node as from_torch's export writes it."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.normal(size=s).astype(np.float32), n) for n, s in
             (("qw", (q_rows, 4)), ("kw", (4, 4)), ("vw", (4, 4)), ("ow", (4, 4)))]
    node = helper.make_node("MultiHeadAttention", ["x", "x", "qw", "kw", "vw", "ow"], ["y", "w"],
                            name="/attn/MultiHeadAttention", domain="xnn", num_heads=num_heads, causal=0, dropout=0.0,
                            **(extra_attrs or {}))
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 5, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 5, 4])], inits)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 20), helper.make_opsetid("xnn", 1)])


def test_node_checked_and_malformed_ones_refused(tmp_path):
    """The handler (what from_torch's in-memory model reaches) validates the node; a file on disk
    with the custom domain is refused by the importer's driver, one line naming the node."""
    import onnx

    from xnn.interop.onnx.importer import _import
    from xnn.interop.torch.attention import for_importer

    model = _model()
    for_importer(model)
    spec, params, _ = _import(model, "memory")
    assert [(n["type"], n["name"], n["use_bias"]) for n in spec["model"]] == [("MultiHeadAttention", "attn", False)]
    np.testing.assert_array_equal(params["attn.q_weight"], onnx.numpy_helper.to_array(model.graph.initializer[0]))
    for kw, what in (({"num_heads": 3}, "num_heads 3 does not divide"),
                     ({"num_heads": 0}, "num_heads must be a positive int"),
                     ({"extra_attrs": {"heads": 2}}, "unknown attribute(s) heads"),
                     ({"q_rows": 6}, "k_weight of shape [4, 4] does not fit")):
        model = _model(**kw)
        for_importer(model)
        with pytest.raises(FormatError) as e:
            _import(model, "memory")
        msg = str(e.value)
        assert what in msg and "'/attn/XnnMultiHeadAttention' (XnnMultiHeadAttention)" in msg, msg
        assert len(msg.splitlines()) == 1, msg
    p = tmp_path / "attn.onnx"
    onnx.save(_model(), str(p))
    with pytest.raises(FormatError) as e:
        import_onnx(p)
    msg = str(e.value)
    assert "unsupported ONNX operator xnn::MultiHeadAttention" in msg and "/attn/MultiHeadAttention" in msg, msg
    assert len(msg.splitlines()) == 1, msg
