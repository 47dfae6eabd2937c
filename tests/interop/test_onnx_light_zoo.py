"""The nine real CNNs the onnx package ships as "light" models (onnx/backend/test/data/light):
AlexNet, ZFNet-512, VGG-19, ResNet-50, SqueezeNet, DenseNet-121, Inception v1 and v2, ShuffleNet.

Each file holds its weights as ``ConstantOfShape`` fills (one value per tensor), so its output is
nearly uniform: the original file checks the import (every op, the fills, the output shape, the
stored ``_output_0.pb``) but hardly the arithmetic. The same graphs with seeded random weights
(initializers instead of the fills, the final Softmax dropped so the logits are compared) check the
arithmetic: channel shuffle, pools with uncounted pads, decomposed batch norms, the 1x1-Conv
classifier on a pooled vector. Then ``xnn.parity`` runs the imported randomized model on
NumPy, torch, Keras, ONNX Runtime (xnn's re-export) and Octave.

Sizes: VGG-19 has 144 M parameters (1.1 GB as float64), AlexNet and ZFNet 61 M and 87 M; their
tests are marked ``slow`` (15-50 s each here, two CPU cores; their parity runs 1-3 min, most of it
building the Keras model and writing the ONNX and .mat files). Octave is not the bottleneck: at
batch 1 it takes 2-14 s per model, 62 s for VGG-19 (docs/onnx.md), so every model runs all five
paths.
"""
from __future__ import annotations

import os

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from tests.parity.harness import assert_close
from xnn.interop.onnx import export_onnx
from xnn.interop.onnx.importer import import_onnx_full, to_onnx_output, to_xnn_input
from xnn.reference import forward
from xnn.spec import from_dict

from ._onnx_util import ort_run

LIGHT = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data", "light")

# name -> (ONNX output shape, what the import must contain beyond plain layers)
MODELS = {
    "bvlc_alexnet": ((1, 1000), {"LRN": 2}),
    "zfnet512": ((1, 1000), {"LRN": 2}),
    "vgg19": ((1, 1000), {}),
    "resnet50": ((1, 1000), {}),
    "squeezenet": ((1, 1000, 1, 1), {}),
    # BatchNormalization, Mul, Add: the Mul/Add fold into the BatchNorm (no Scale layer)
    "densenet121": ((1, 1000, 1, 1), {"Scale": 0, "BatchNorm": 121}),
    # the last AveragePool (7x7, pads 0/1 on a 6x6 input) is one window over the whole input
    "inception_v1": ((1, 1000), {"GlobalAvgPool2D": 1}),
    "inception_v2": ((1, 1000), {"Scale": 0, "BatchNorm": 69}),
    # 16 shuffles; AvgPool(3, 2, pads 1) with count_include_pad=0: zero padding + a count correction
    "shufflenet": ((1, 1000), {"ChannelShuffle": 16, "Scale": 3}),
}
# fills larger than MAX_FOLDED_BYTES (256 MiB): fc6 is 288 / 392 MiB (docs/onnx.md, why the default stays)
LIMIT = {"zfnet512": "5e8", "vgg19": "5e8"}
BIG = {"bvlc_alexnet", "zfnet512", "vgg19"}  # > 50 M parameters: 15-50 s per test here, marked slow
NAMES = [pytest.param(n, marks=pytest.mark.slow) if n in BIG else n for n in sorted(MODELS)]


def _path(name: str) -> str:
    path = os.path.join(LIGHT, f"light_{name}.onnx")
    if not os.path.isfile(path):
        pytest.skip(f"the onnx package here does not ship {path}")
    return path


def test_fills_above_the_folding_limit_are_refused_by_default(monkeypatch):
    """VGG-19's fc6 fill (392 MiB) exceeds MAX_FOLDED_BYTES: refused naming the node and the limit."""
    from xnn.errors import FormatError
    from xnn.interop.onnx import import_onnx

    monkeypatch.delenv("XNN_LIMIT_MAX_FOLDED_BYTES", raising=False)
    with pytest.raises(FormatError, match=r"ConstantOfShape.*411041792 bytes.*XNN_LIMIT_MAX_FOLDED_BYTES"):
        import_onnx(_path("vgg19"))


def _dummy_input(model) -> tuple[str, np.ndarray]:
    """The input onnx's backend test runner feeds these models (``np.arange(n) / n``)."""
    inits = {t.name for t in model.graph.initializer}
    (inp,) = [i for i in model.graph.input if i.name not in inits]
    shape = tuple(d.dim_value or 1 for d in inp.type.tensor_type.shape.dim)
    n = int(np.prod(shape))
    return inp.name, (np.arange(n).reshape(shape) / n).astype(np.float32)


def randomized(model, seed: int = 0):
    """The same graph with seeded random weights: every ``ConstantOfShape`` fill of a weight becomes
    an initializer (He-scaled for Conv/Gemm weights, batch-norm statistics in range), and a final
    Softmax is dropped so that the logits are compared."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    readers: dict[str, list] = {}
    for n in g.node:
        for i, x in enumerate(n.input):
            readers.setdefault(x, []).append((n, i))
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}

    def role(t: str):
        while True:
            rs = readers.get(t, [])
            if len(rs) != 1:
                return None
            n, i = rs[0]
            if n.op_type in ("Unsqueeze", "Reshape", "Identity") and i == 0:
                if n.op_type == "Reshape" and readers.get(n.output[0], [(None, None)])[0][0] is not None and \
                        readers[n.output[0]][0][0].op_type in ("Gemm", "MatMul"):
                    return readers[n.output[0]][0][0].op_type, 1
                t = n.output[0]
                continue
            return n.op_type, i

    rng = np.random.default_rng(seed)
    keep, new = [], []
    for n in g.node:
        r = role(n.output[0]) if n.op_type == "ConstantOfShape" and n.input[0] in inits else None
        if r is None:
            keep.append(n)
            continue
        shape = tuple(int(v) for v in inits[n.input[0]].reshape(-1))
        op, i = r
        if op in ("Conv", "Gemm", "MatMul") and i == 1:
            fan = int(np.prod(shape[1:])) if len(shape) == 4 and shape[0] > 1 else shape[-1]
            v = rng.normal(size=shape) * np.sqrt(2.0 / fan)
        elif op == "BatchNormalization":
            v = rng.uniform(0.5, 1.5, shape) if i in (1, 4) else rng.normal(size=shape) * 0.1
        elif op == "Mul":
            v = rng.uniform(0.5, 1.5, shape)
        else:
            v = rng.normal(size=shape) * 0.1
        new.append(numpy_helper.from_array(v.astype(np.float32), n.output[0]))
    if keep[-1].op_type == "Softmax" and keep[-1].output[0] == g.output[0].name:
        g.output[0].name = keep.pop().input[0]
    del g.node[:]
    g.node.extend(keep)
    g.initializer.extend(new)
    m.ir_version = max(m.ir_version, 4)  # IR 3 lists every initializer as a graph input
    return m


def _kinds(sd) -> dict[str, int]:
    out: dict[str, int] = {}
    for n in sd["model"]:
        out[n["type"]] = out.get(n["type"], 0) + 1
    return out


def _check_import(path, x, want, name, tol="float32"):
    sd, params, info = import_onnx_full(path)
    spec = from_dict(sd)
    got = to_onnx_output(forward(spec, params, to_xnn_input(x, info).astype(np.float64)), info)
    assert got.shape == want.shape, f"{name}: output {got.shape}, ONNX {want.shape}"
    assert_close(got, want, tol, name)
    return sd, spec, params, info


@pytest.mark.parametrize("name", NAMES)
def test_original_file_imports_and_matches_onnxruntime(name, tmp_path, monkeypatch):
    """The file as shipped: ONNX Runtime reproduces the stored output on the runner's input, the
    import matches ONNX Runtime, and the output keeps its shape in xnn's re-export."""
    import onnxruntime as ort

    path = _path(name)
    if name in LIMIT:
        monkeypatch.setenv("XNN_LIMIT_MAX_FOLDED_BYTES", LIMIT[name])
    model = onnx.load(path)
    iname, x = _dummy_input(model)
    want = ort.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {iname: x})[0]
    stored = numpy_helper.to_array(onnx.load_tensor(os.path.join(LIGHT, f"light_{name}_output_0.pb")))
    assert_close(want, stored, "float32", f"{name}: ONNX Runtime vs the stored output")
    out_shape, kinds = MODELS[name]
    assert want.shape == out_shape
    sd, spec, params, info = _check_import(path, x, want, name)
    have = _kinds(sd)
    for k, n in kinds.items():
        assert have.get(k, 0) == n, f"{name}: {have.get(k, 0)} {k} layers, expected {n} ({have})"
    if info["output_axes"] == list(range(len(out_shape))):  # a plain output: the same shape in xnn
        assert (1, *spec.output.out_shape) == out_shape
    back = export_onnx(spec, params, tmp_path / "back.onnx")
    y = ort_run(back, to_xnn_input(x, info))
    assert y.shape == (1, *spec.output.out_shape)
    assert_close(to_onnx_output(y, info), want, "float32", f"{name}: xnn's re-export")


@pytest.mark.parametrize("name", NAMES)
def test_randomized_weights_match_onnxruntime(name, tmp_path):
    """Seeded random weights in the same graph: the imported model computes ONNX Runtime's logits."""
    path = tmp_path / f"{name}.onnx"
    onnx.save(randomized(onnx.load(_path(name))), str(path))
    x = np.random.default_rng(0).normal(size=(1, 3, 224, 224)).astype(np.float32)
    _check_import(path, x, ort_run(path, x), f"{name} (random weights)")


@pytest.mark.parametrize("name", NAMES)
def test_parity_of_the_imported_model(name, tmp_path):
    """``xnn parity`` on the import of the randomized file: NumPy, torch, Keras, ONNX Runtime and
    Octave agree (float64; ONNX Runtime float32), batch 1."""
    import shutil

    from xnn.parity import PATHS, format_table, run_parity

    octave = shutil.which("octave-cli") is not None
    paths = [p for p in PATHS if p != "octave" or octave]
    path = tmp_path / f"{name}.onnx"
    onnx.save(randomized(onnx.load(_path(name))), str(path))
    sd, params, _ = import_onnx_full(path)
    rep = run_parity(from_dict(sd), params, paths=paths, dtype="float64", n=1, seed=0)
    assert rep.ok, format_table(rep)
    if not octave:
        pytest.skip("octave-cli is not installed: NumPy, torch, Keras and ONNX Runtime agree, Octave not run")
