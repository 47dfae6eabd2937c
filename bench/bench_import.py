"""Import benchmark: bringing models into xnn vs the tools that do the nearest thing, measured side
by side in one process.

(a) ``xnn.from_torch`` of a ResNet-50-sized torch module (bottleneck blocks [3, 4, 6, 3], 25.6 M
    parameters, written here: torchvision is not needed) vs ``torch.onnx.export(module, (x,),
    dynamo=True)`` of the same module into memory. from_torch does more (its TorchScript export
    and xnn's whole import: spec, canonical weights, validation); the ratio says what it costs next
    to the exporter torch now defaults to. The imported model is checked against the module on
    xnn's torch backend (float32: 1e-5 x output scale).
(b) xnn's ONNX import (``import_onnx``: spec + canonical weights) of the light ResNet-50 from the
    onnx package's test data (``onnx/backend/test/data/light/light_resnet50.onnx``) vs
    ``onnx2torch.convert`` (an ``nn.Module``). The light file computes its weights with
    ``ConstantOfShape`` nodes, which onnx2torch cannot read (it wants initializers), so both are
    timed on that graph with those weights written as initializers (xnn also on the file as it
    is). onnx2torch imports torchvision for two detection ops only: a minimal stand-in package is
    put on ``sys.path`` (as tests/interop do).

Each is the median of ``--runs`` warm calls (the first call of each timed separately as "cold").
No thresholds: the ratios are printed (and written with ``--json``).

    python bench/bench_import.py [--quick] [--runs N] [--json FILE]
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_onnx import quiet_torch_onnx, timed  # noqa: E402  (the same timing and exporter silencing)

TOL = 1e-5


def resnet50(width: int = 64, classes: int = 1000):
    """ResNet-50 (v1.5: stride in the 3x3 conv), bottleneck blocks [3, 4, 6, 3]."""
    from torch import nn

    class Bottleneck(nn.Module):
        def __init__(self, cin, mid, stride):
            super().__init__()
            cout = mid * 4
            self.conv1, self.bn1 = nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid)
            self.conv2, self.bn2 = nn.Conv2d(mid, mid, 3, stride, 1, bias=False), nn.BatchNorm2d(mid)
            self.conv3, self.bn3 = nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout)
            self.relu = nn.ReLU()
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            y = self.relu(self.bn1(self.conv1(x)))
            y = self.relu(self.bn2(self.conv2(y)))
            y = self.bn3(self.conv3(y))
            return self.relu(y + (x if self.down is None else self.down(x)))

    class ResNet50(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1, self.bn1 = nn.Conv2d(3, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width)
            self.relu, self.pool = nn.ReLU(), nn.MaxPool2d(3, 2, 1)
            blocks, cin = [], width
            for i, (n, mid) in enumerate(zip((3, 4, 6, 3), (width, 2 * width, 4 * width, 8 * width))):
                for j in range(n):
                    blocks.append(Bottleneck(cin, mid, 2 if (j == 0 and i > 0) else 1))
                    cin = mid * 4
            self.layers = nn.Sequential(*blocks)
            self.avg = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(cin, classes)

        def forward(self, x):
            y = self.layers(self.pool(self.relu(self.bn1(self.conv1(x)))))
            return self.fc(self.avg(y).flatten(1))

    return ResNet50()


def bench_from_torch(runs: int, size: int) -> dict:
    import torch

    import xnn
    import xnn.backends
    from xnn.interop.onnx.importer import to_onnx_output, to_xnn_input
    from xnn.interop.torch import from_torch_full

    torch.manual_seed(0)
    m = resnet50().eval()
    x = torch.randn(2, 3, size, size)

    def dynamo():
        buf = io.BytesIO()
        torch.onnx.export(m, (x,), buf, dynamo=True, verbose=False)
        return buf

    def torchscript():  # the export from_torch runs first (its share of from_torch's time)
        from xnn.interop.torch import _export

        return _export(m, x, "bench", [])

    xnn_cold, xnn_s, (spec, params, info) = timed(lambda: from_torch_full(m, x), runs)
    _, ts_s, _ = timed(torchscript, runs)
    dyn_cold, dyn_s, _ = timed(dynamo, runs)
    s = xnn.from_dict(spec)
    be = xnn.backends.get("torch")
    got = to_onnx_output(be.predict(be.build(s, params, dtype="float32"), to_xnn_input(x.numpy(), info)), info)
    with torch.no_grad():
        ref = m(x).numpy()
    err = float(np.abs(got - ref).max() / max(1.0, float(np.abs(ref).max())))
    return {"model": "resnet50 (torch module)", "params": int(sum(p.numel() for p in m.parameters())),
            "input": [2, 3, size, size], "nodes": len(spec["model"]),
            "xnn_from_torch_s": xnn_s, "xnn_from_torch_cold_s": xnn_cold, "of_which_torchscript_export_s": ts_s,
            "torch_onnx_dynamo_s": dyn_s, "torch_onnx_dynamo_cold_s": dyn_cold,
            "ratio_dynamo_over_xnn": dyn_s / xnn_s, "scaled_err_vs_module": err, "agrees": err <= TOL}


def stand_in_torchvision(root: Path) -> Path:
    """A minimal ``torchvision`` (onnx2torch imports it for NMS and RoIAlign only)."""
    ops = root / "torchvision" / "ops"
    ops.mkdir(parents=True)
    (root / "torchvision" / "__init__.py").write_text("from . import ops  # stand-in: no torchvision here\n")
    (ops / "__init__.py").write_text(
        "def _missing(*a, **k):\n    raise NotImplementedError('torchvision stand-in')\n\n"
        "nms = box_convert = roi_align = _missing\n")
    return root


def bench_onnx_import(runs: int, tmp: Path) -> dict:
    import importlib.util

    import onnx

    from xnn.interop.onnx.importer import import_onnx

    path = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light" / "light_resnet50.onnx"
    if not path.is_file():
        return {"model": "light_resnet50.onnx", "skipped": f"{path} is not in the installed onnx package"}
    xnn_cold, xnn_s, (spec, _) = timed(lambda: import_onnx(path), runs)
    row = {"model": "light_resnet50.onnx", "file": str(path), "nodes": len(spec["model"]),
           "xnn_import_s": xnn_s, "xnn_import_cold_s": xnn_cold}
    if importlib.util.find_spec("onnx2torch") is None:
        row["skipped_onnx2torch"] = "onnx2torch is not installed"
        return row
    if importlib.util.find_spec("torchvision") is None:
        sys.path.insert(0, str(stand_in_torchvision(tmp / "tv")))
    from onnx2torch import convert

    # the light file computes its weights with ConstantOfShape nodes, which onnx2torch cannot read
    # (it wants initializers): both tools are timed on the file with those written as initializers
    full = materialized(path, tmp / "light_resnet50_initializers.onnx")
    xf_cold, xf_s, _ = timed(lambda: import_onnx(full), runs)
    o2t_cold, o2t_s, _ = timed(lambda: convert(str(full)), runs)
    row.update({"weights_as_initializers_file_mb": full.stat().st_size / 2**20,
                "xnn_import_initializers_s": xf_s, "xnn_import_initializers_cold_s": xf_cold,
                "onnx2torch_convert_s": o2t_s, "onnx2torch_convert_cold_s": o2t_cold,
                "ratio_onnx2torch_over_xnn": o2t_s / xf_s})
    return row


def materialized(src: Path, out: Path) -> Path:
    """``src`` with each ``ConstantOfShape`` of a constant shape written as an initializer."""
    import onnx
    from onnx import numpy_helper

    m = onnx.load(str(src))
    consts = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    keep = []
    for n in m.graph.node:
        if n.op_type == "ConstantOfShape" and n.input[0] in consts:
            value = next((numpy_helper.to_array(a.t) for a in n.attribute if a.name == "value"),
                         np.zeros(1, np.float32)).reshape(-1)[0]
            arr = np.full([int(v) for v in consts[n.input[0]]], value, dtype=np.asarray(value).dtype)
            m.graph.initializer.append(numpy_helper.from_array(arr, n.output[0]))
            if m.ir_version < 4:  # initializers are graph inputs before IR 4
                m.graph.input.append(onnx.helper.make_tensor_value_info(
                    n.output[0], onnx.helper.np_dtype_to_tensor_dtype(arr.dtype), list(arr.shape)))
        else:
            keep.append(n)
    del m.graph.node[:]
    m.graph.node.extend(keep)
    used = {i for n in keep for i in n.input}
    shapes = [t for t in m.graph.initializer if t.name.endswith("__SHAPE") and t.name not in used]
    gone = {t.name for t in shapes}
    for t in shapes:
        m.graph.initializer.remove(t)
    for i in [i for i in m.graph.input if i.name in gone]:
        m.graph.input.remove(i)
    onnx.save(m, str(out))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="1 warm run each, a 64x64 input")
    ap.add_argument("--runs", type=int, default=None, help="warm runs per measurement (default 3; 1 with --quick)")
    ap.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = ap.parse_args(argv)
    runs = args.runs if args.runs is not None else (1 if args.quick else 3)
    import torch  # noqa: F401  (before anything that could import tensorflow)

    quiet_torch_onnx()
    with tempfile.TemporaryDirectory(prefix="xnn-bench-import-") as d:
        a = bench_from_torch(runs, 64 if args.quick else 224)
        b = bench_onnx_import(runs, Path(d))
    print(f"from_torch: {a['model']}, {a['params'] / 1e6:.1f} M parameters, input {a['input']}, "
          f"{a['nodes']} xnn nodes (median of {runs} warm run(s))")
    print(f"  {'xnn.from_torch':<34}{a['xnn_from_torch_s']:>9.3f} s  (cold {a['xnn_from_torch_cold_s']:.3f} s)")
    print(f"  {'  of which its TorchScript export':<34}{a['of_which_torchscript_export_s']:>9.3f} s")
    print(f"  {'torch.onnx.export(dynamo=True)':<34}{a['torch_onnx_dynamo_s']:>9.3f} s  "
          f"(cold {a['torch_onnx_dynamo_cold_s']:.3f} s)")
    print(f"  ratio dynamo / from_torch: {a['ratio_dynamo_over_xnn']:.2f}x   imported vs module: "
          f"{a['scaled_err_vs_module']:.1e} x scale ({'ok' if a['agrees'] else 'DIFFERS'})")
    print(f"ONNX import: {b['model']}")
    if "skipped" in b:
        print(f"  skipped: {b['skipped']}")
    else:
        print(f"  {'xnn import_onnx':<34}{b['xnn_import_s']:>9.3f} s  (cold {b['xnn_import_cold_s']:.3f} s), "
              f"{b['nodes']} xnn nodes")
        if "onnx2torch_convert_s" in b:
            print(f"  the same graph with its ConstantOfShape weights as initializers "
                  f"({b['weights_as_initializers_file_mb']:.0f} MiB), which onnx2torch needs:")
            print(f"  {'xnn import_onnx':<34}{b['xnn_import_initializers_s']:>9.3f} s  "
                  f"(cold {b['xnn_import_initializers_cold_s']:.3f} s)")
            print(f"  {'onnx2torch.convert':<34}{b['onnx2torch_convert_s']:>9.3f} s  "
                  f"(cold {b['onnx2torch_convert_cold_s']:.3f} s)")
            print(f"  ratio onnx2torch / xnn: {b['ratio_onnx2torch_over_xnn']:.2f}x")
        else:
            print(f"  onnx2torch: {b['skipped_onnx2torch']}")
    if args.json:
        args.json.write_text(json.dumps({"from_torch": a, "onnx_import": b, "runs": runs}, indent=2))
    return 0 if a["agrees"] else 1


if __name__ == "__main__":
    sys.exit(main())
