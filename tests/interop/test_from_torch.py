"""PyTorch modules into xnn without files: hand-written torch models imported with
``xnn.from_torch`` and compared with the module's own output (float64: 1e-10; float32: 1e-5 x
scale) on xnn's torch backend and the NumPy reference, fed the channels-last transpose of the
module's input; then five-path parity (NumPy, torch, Keras, ONNX Runtime, Octave) on the
imported spec and weights. An LSTM imported from torch then trains step for step as PyTorch
trains the original module (both biases), on xnn's torch and Keras backends.
"""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch  # before tensorflow (the Keras path of the parity runs) in one process (design rule)
from torch import nn

import xnn
import xnn.backends
from xnn.errors import FormatError
from xnn.interop.onnx.importer import to_onnx_output, to_xnn_input
from xnn.interop.torch import from_torch_full
from xnn.parity import run_parity

PATHS = ("torch", "keras", "onnx") + (("octave",) if shutil.which("octave-cli") else ())


def _randomize(module: nn.Module, seed: int = 0) -> nn.Module:
    """Non-trivial values everywhere (torch initializes biases/BN statistics to constants)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, t in list(module.named_parameters()) + list(module.named_buffers()):
            if not t.dtype.is_floating_point:
                continue
            if name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g, dtype=t.dtype) + 0.5)
            else:
                t.copy_(torch.randn(t.shape, generator=g, dtype=t.dtype) * 0.4)
    return module


# ------------------------------------------------------------------------------ models
class CNNResidual(nn.Module):
    """Conv + BatchNorm + ReLU, a depthwise conv and a pointwise conv in a residual Add, pooling, Linear."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8, momentum=0.2, eps=1e-4)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.pw = nn.Conv2d(8, 8, 1)
        self.pool = nn.MaxPool2d(2)
        self.drop = nn.Dropout(0.25)
        self.fc = nn.Linear(8 * 4 * 4, 5)

    def forward(self, x):
        y = torch.relu(self.bn(self.stem(x)))
        y = y + self.pw(self.dw(y))
        return self.fc(self.drop(torch.flatten(self.pool(y), 1)))


class MobileNetV2Block(nn.Module):
    """Inverted residual: 1x1 expand + BN + ReLU6, depthwise 3x3 + BN + hardswish, 1x1 project + BN, Add."""

    def __init__(self, c: int = 4, t: int = 4):
        super().__init__()
        self.expand = nn.Sequential(nn.Conv2d(c, c * t, 1, bias=False), nn.BatchNorm2d(c * t), nn.ReLU6())
        self.dw = nn.Sequential(nn.Conv2d(c * t, c * t, 3, padding=1, groups=c * t, bias=False),
                                nn.BatchNorm2d(c * t), nn.Hardswish())
        self.project = nn.Sequential(nn.Conv2d(c * t, c, 1, bias=False), nn.BatchNorm2d(c))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c, 3), nn.Hardsigmoid())

    def forward(self, x):
        return self.head(x + self.project(self.dw(self.expand(x))))


class SEBlock(nn.Module):
    """Squeeze-and-excitation as torchvision writes it: pooled (N, C, 1, 1), 1x1 convs, Multiply."""

    def __init__(self, c: int = 8, r: int = 4):
        super().__init__()
        self.conv = nn.Conv2d(3, c, 3, padding=1)
        self.fc1 = nn.Conv2d(c, c // r, 1)
        self.fc2 = nn.Conv2d(c // r, c, 1)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        s = torch.sigmoid(self.fc2(torch.relu(self.fc1(nn.functional.adaptive_avg_pool2d(y, 1)))))
        return y * s


class SELinear(nn.Module):
    """Squeeze-and-excitation with Linear layers and a broadcast Multiply."""

    def __init__(self, c: int = 8, r: int = 4):
        super().__init__()
        self.conv = nn.Conv2d(3, c, 3, padding=1)
        self.fc1 = nn.Linear(c, c // r)
        self.fc2 = nn.Linear(c // r, c)
        self.out = nn.Linear(c, 2)

    def forward(self, x):
        y = torch.relu(self.conv(x))
        s = torch.sigmoid(self.fc2(torch.relu(self.fc1(y.mean((2, 3))))))
        return self.out((y * s[:, :, None, None]).amax((2, 3)))


class UNetish(nn.Module):
    """Encoder conv + MaxPool, ConvTranspose2d up, nearest Upsample, skip Concatenate, 1x1 head
    (a per-pixel, channels-first output)."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Conv2d(3, 4, 3, padding=1)
        self.down = nn.MaxPool2d(2)
        self.mid = nn.Conv2d(4, 8, 3, padding=1)
        self.up = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.deep = nn.Conv2d(8, 4, 3, padding=1)
        self.up2 = nn.Upsample(scale_factor=4, mode="nearest")
        self.head = nn.Conv2d(12, 2, 1)

    def forward(self, x):
        a = torch.relu(self.enc(x))
        b = torch.relu(self.mid(self.down(a)))
        u = self.up(b)
        d = self.up2(torch.relu(self.deep(self.down(b))))
        return self.head(torch.cat([a, u, d], dim=1))


class LSTMHead(nn.Module):
    def __init__(self, bidirectional: bool = False, layers: int = 1):
        super().__init__()
        self.rnn = nn.LSTM(3, 5, num_layers=layers, batch_first=True, bidirectional=bidirectional)
        self.fc = nn.Linear(5 * (1 + bidirectional), 2)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y[:, -1] if not self.rnn.bidirectional else y)


class GRUHead(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(4, 3, num_layers=2, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(6, 2)

    def forward(self, x):
        y, _ = self.rnn(x)
        return self.fc(y)


class Signal1D(nn.Module):
    """Conv1d, BatchNorm1d, ELU, AvgPool1d, InstanceNorm1d (affine), GELU, global max. (torch's
    export of GroupNorm with fewer groups than channels, a Reshape to (N, G, -1) around
    InstanceNormalization, is not imported yet.)"""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(2, 6, 3, padding=1)
        self.bn = nn.BatchNorm1d(6)
        self.pool = nn.AvgPool1d(2)
        self.c2 = nn.Conv1d(6, 6, 3, padding=1)
        self.gn = nn.InstanceNorm1d(6, affine=True)
        self.fc = nn.Linear(6, 3)

    def forward(self, x):
        y = self.pool(nn.functional.elu(self.bn(self.c1(x))))
        y = nn.functional.gelu(self.gn(self.c2(y)))
        return self.fc(y.amax(2))


MODELS = [
    ("cnn_residual", CNNResidual, (3, 8, 8)),
    ("mobilenetv2_block", MobileNetV2Block, (4, 6, 6)),
    ("se_block", SEBlock, (3, 6, 6)),
    ("se_linear", SELinear, (3, 6, 6)),
    ("unet", UNetish, (3, 8, 8)),
    ("lstm", LSTMHead, (6, 3)),
    ("lstm_bidir_stacked", lambda: LSTMHead(True, 2), (6, 3)),
    ("gru", GRUHead, (5, 4)),
    ("signal_1d", Signal1D, (2, 12)),
]


def _import(make, shape, dtype=torch.float64, seed=0, n=4):
    m = _randomize(make().to(dtype), seed)
    x = torch.from_numpy(np.random.default_rng(seed + 1).normal(size=(n, *shape))).to(dtype)
    spec_dict, params, info = from_torch_full(m, x)
    m.eval()
    with torch.no_grad():
        ref = m(x).numpy()
    return m, x.numpy(), ref, spec_dict, params, info


def _tol(ref, dtype):
    return (1e-10 if dtype == torch.float64 else 1e-5) * max(1.0, float(np.abs(ref).max()))


@pytest.mark.parametrize("name,make,shape", MODELS, ids=[m[0] for m in MODELS])
def test_from_torch_float64_equals_module_then_five_paths(name, make, shape):
    m, x, ref, spec_dict, params, info = _import(make, shape)
    spec = xnn.from_dict(spec_dict)
    assert spec.train.dtype == "float64"
    sd = {k: v.detach().numpy() for k, v in m.state_dict().items() if v.dtype.is_floating_point}
    assert sum(v.size for v in params.values()) == sum(v.size for v in sd.values())  # the module's parameters
    xin = to_xnn_input(x, info)
    if len(shape) >= 2 and name not in ("lstm", "lstm_bidir_stacked", "gru"):
        np.testing.assert_array_equal(xin, np.moveaxis(x, 1, -1))  # channels-first in, channels-last in xnn
    else:
        np.testing.assert_array_equal(xin, x)  # sequences as they are
    be = xnn.backends.get("torch")
    got = to_onnx_output(be.predict(be.build(spec, params, dtype="float64"), xin), info)
    assert got.shape == ref.shape
    assert np.abs(got - ref).max() <= _tol(ref, torch.float64), np.abs(got - ref).max()
    npy = to_onnx_output(xnn.reference_forward(spec, params, xin), info)
    assert np.abs(npy - ref).max() <= _tol(ref, torch.float64)
    if name == "unet":
        assert np.array_equal(got, np.moveaxis(be.predict(be.build(spec, params, dtype="float64"), xin), -1, 1))
    rep = run_parity(spec, params, paths=PATHS, dtype="float64", n=2, seed=3)
    bad = [(p.path, p.max_rel) for p in rep.paths if not p.ok] + [(q.a, q.b) for q in rep.pairs if not q.ok]
    assert rep.ok, bad


@pytest.mark.parametrize("name,make,shape", [MODELS[0], MODELS[4], MODELS[5]], ids=["cnn_residual", "unet", "lstm"])
def test_from_torch_float32(name, make, shape):
    _, x, ref, spec_dict, params, info = _import(make, shape, dtype=torch.float32, seed=5)
    spec = xnn.from_dict(spec_dict)
    assert spec.train.dtype == "float32"
    be = xnn.backends.get("torch")
    got = to_onnx_output(be.predict(be.build(spec, params, dtype="float32"), to_xnn_input(x, info)), info)
    assert np.abs(got - ref).max() <= _tol(ref, torch.float32)


def test_kept_semantics_and_names():
    m = _randomize(CNNResidual().double())
    spec, params = xnn.from_torch(m, torch.zeros(2, 3, 8, 8, dtype=torch.float64))
    nodes = {n["name"]: n for n in spec["model"]}
    assert nodes["bn"]["type"] == "BatchNorm" and nodes["bn"]["momentum"] == 0.2 and nodes["bn"]["eps"] == 1e-4
    assert nodes["drop"] == {"type": "Dropout", "name": "drop", "rate": 0.25}  # kept although eval drops it
    assert nodes["dw"]["groups"] == 8
    np.testing.assert_array_equal(params["bn.running_var"], m.bn.running_var.numpy())
    np.testing.assert_array_equal(params["stem.weight"], m.stem.weight.detach().numpy())
    assert spec["input"] == {"shape": [8, 8, 3], "dtype": "float64"}
    assert m.training  # from_torch leaves the module's mode as it was
    m2 = nn.Sequential(nn.Conv2d(2, 4, 3), nn.Dropout2d(0.3), nn.Flatten(), nn.Linear(4 * 4 * 4, 2))
    spec2, _ = xnn.from_torch(m2, torch.zeros(1, 2, 6, 6))
    assert [n["type"] for n in spec2["model"]] == ["Conv2D", "SpatialDropout2D", "Flatten", "Dense"]


def test_lstm_keeps_both_biases():
    m = _randomize(LSTMHead().double())
    spec, params = xnn.from_torch(m, torch.zeros(2, 6, 3, dtype=torch.float64))
    node = next(n for n in spec["model"] if n["type"] == "LSTM")["name"]
    for b in ("bias_ih_l0", "bias_hh_l0"):
        np.testing.assert_array_equal(params[f"{node}.{b}"], getattr(m.rnn, b).detach().numpy())


def test_refusals_listed_at_once():
    class Mixed(nn.Module):
        def __init__(self):
            super().__init__()
            self.dec = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True)
            self.rnn = nn.RNN(8, 4, batch_first=True)
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            y, _ = self.rnn(self.dec(x, x))
            return self.fc(y[:, -1])

    with pytest.raises(FormatError) as e:
        xnn.from_torch(Mixed(), torch.zeros(2, 5, 8))
    msgs = e.value.messages
    assert any("'dec' (TransformerDecoderLayer)" in m and "memory" in m for m in msgs), msgs
    assert any("'rnn' (RNN)" in m for m in msgs), msgs
    assert all(m.startswith("from_torch(Mixed)") for m in str(e.value).splitlines())
    # an op the importer lacks is named with its torch module
    with pytest.raises(FormatError) as e:
        xnn.from_torch(nn.Sequential(nn.Conv2d(1, 4, 3), nn.PixelShuffle(2)), torch.zeros(1, 1, 6, 6))
    assert "DepthToSpace" in str(e.value) and "'1' (PixelShuffle)" in str(e.value)
    with pytest.raises(FormatError, match="one input"):
        xnn.from_torch(nn.Linear(2, 2), (torch.zeros(1, 2), torch.zeros(1, 2)))
    with pytest.raises(FormatError, match="expects a torch.nn.Module"):
        xnn.from_torch(lambda t: t, torch.zeros(1, 2))


# ------------------------------------------------------------------------------ training
STEPS = 6


def _torch_training(m: nn.Module, batches, lr: float) -> tuple[list[float], dict]:
    opt = torch.optim.SGD(m.parameters(), lr=lr)
    m.train()
    losses = []
    for x, y in batches:
        opt.zero_grad()
        loss = nn.functional.mse_loss(m(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, {k: v.detach().numpy().copy() for k, v in m.named_parameters()}


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_imported_lstm_trains_as_pytorch_trains_it(backend):
    """Both biases are trained (each with the full gradient): an LSTM imported from torch and
    trained N steps in float64 matches PyTorch's own training of the original module, step for
    step (losses and every parameter, 1e-10)."""
    import importlib

    torch.manual_seed(0)
    m = _randomize(LSTMHead().double(), seed=7)
    spec_dict, params = xnn.from_torch(m, torch.zeros(2, 6, 3, dtype=torch.float64))
    lr = 0.3
    spec_dict["train"] = {"dtype": "float64", "loss": "mse", "metrics": ["mse"],
                          "optimizer": {"type": "sgd", "lr": lr}}
    spec = xnn.from_dict(spec_dict)
    rng = np.random.default_rng(11)
    batches = [(rng.normal(size=(4, 6, 3)), rng.normal(size=(4, 2))) for _ in range(STEPS)]
    be = xnn.backends.get(backend)
    model = be.build(spec, params, dtype="float64")
    tr = importlib.import_module(f"xnn.backends.{backend}.train").Trainer(spec, model, "float64", steps_per_epoch=STEPS)
    node = next(n.name for n in spec.nodes if n.kind == "LSTM")
    want_losses, want = _torch_training(m, batches, lr)
    got_losses = [tr.train_step(x, y) for x, y in batches]
    np.testing.assert_allclose(got_losses, want_losses, rtol=1e-10, atol=0)
    got = be.get_params(model)
    names = {f"rnn.{k}": f"{node}.{k}" for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")}
    names.update({"fc.weight": "fc.weight", "fc.bias": "fc.bias"})
    assert set(names) == set(want)
    for tk, xk in names.items():
        moved = np.abs(want[tk] - params[xk]).max()
        assert moved > 0, tk
        assert np.abs(got[xk] - want[tk]).max() <= 1e-10 * max(1.0, np.abs(want[tk]).max()), tk
    # the two biases moved by the same step (each received the full gradient), not half of it each
    d_ih = got[f"{node}.bias_ih_l0"] - params[f"{node}.bias_ih_l0"]
    d_hh = got[f"{node}.bias_hh_l0"] - params[f"{node}.bias_hh_l0"]
    np.testing.assert_allclose(d_ih, d_hh, rtol=1e-10, atol=1e-14)
