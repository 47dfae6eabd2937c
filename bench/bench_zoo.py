"""Zoo-size training and inference against hand-written peers, in one run (issue: model zoo).

For each zoo model named (default ``resnet18_small`` and ``mobilenetv2_small``; 32x32x3, batch 64,
Adam lr 1e-3, one thread):

- xnn torch training vs the same architecture hand-written in torch the way torchvision writes it
  (``BasicBlock`` / ``InvertedResidual`` modules, ``CrossEntropyLoss``, ``torch.optim.Adam``);
- xnn Keras training vs the same architecture hand-written in Keras and trained with ``fit``, and
  trained by a hand-written ``tf.function`` loop (``--xla``: both with XLA);
- ``--torch-compile``: xnn's ``train.compile`` vs the torchvision-style module under torch.compile;
- inference (batch 64) through xnn's ONNX export in ONNX Runtime vs torch eager (``no_grad``).

Ratios are peer time / xnn time (> 1: xnn faster), end to end (fresh model, every epoch with a
validation pass; medians of interleaved repetitions) and per warm step; see bench_compile.py for
the timing rules. Every candidate trains the same architecture on the same random data; the
initial weights are each framework's own (speed does not depend on them).

    python bench/bench_zoo.py [--quick] [--cpu-time] [--xla] [--torch-compile] [--models resnet18_small,mobilenetv2_small] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import torch  # noqa: E402  (torch before tensorflow in one process)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import bench_compile as bc  # noqa: E402

BS = 64
bc.BS = BS


# ------------------------------------------------------------------------------ torch, torchvision style
def torch_model(name: str, spec):
    from torch import nn

    def conv_bn(cin, cout, k, s, groups=1):
        return [nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]

    class BasicBlock(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1, self.bn1 = conv_bn(cin, cout, 3, stride)
            self.conv2, self.bn2 = conv_bn(cout, cout, 3, 1)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = nn.Sequential(*conv_bn(cin, cout, 1, stride)) if stride != 1 or cin != cout else None

        def forward(self, x):
            idt = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            return self.relu(self.bn2(self.conv2(out)) + idt)

    class InvertedResidual(nn.Module):
        def __init__(self, cin, cout, stride, t):
            super().__init__()
            hid = int(round(cin * t))  # torchvision's _make_divisible aside, as xnn's InvertedResidual
            layers = [] if t == 1 else [*conv_bn(cin, hid, 1, 1), nn.ReLU6(inplace=True)]
            layers += [*conv_bn(hid, hid, 3, stride, groups=hid), nn.ReLU6(inplace=True), *conv_bn(hid, cout, 1, 1)]
            self.conv = nn.Sequential(*layers)
            self.res = stride == 1 and cin == cout

        def forward(self, x):
            return x + self.conv(x) if self.res else self.conv(x)

    c, mods = None, []
    for n in spec.raw["model"]:
        t = n["type"]
        if t == "Conv2D":
            mods.append(nn.Conv2d(c or spec.input_shape[-1], n["filters"], n["kernel_size"], n.get("strides", 1),
                                  n["kernel_size"] // 2, bias=n.get("use_bias", True)))
            c = n["filters"]
        elif t == "BatchNorm":
            mods.append(nn.BatchNorm2d(c))
        elif t in ("relu", "relu6"):
            mods.append(nn.ReLU(inplace=True) if t == "relu" else nn.ReLU6(inplace=True))
        elif t == "Activation":
            mods.append(nn.ReLU6(inplace=True) if n["fn"] == "relu6" else nn.ReLU(inplace=True))
        elif t == "ResidualBlock":
            mods.append(BasicBlock(c, n["filters"], n.get("strides", 1)))
            c = n["filters"]
        elif t == "InvertedResidual":
            mods.append(InvertedResidual(c, n["filters"], n.get("strides", 1), n.get("expansion", 6)))
            c = n["filters"]
        elif t == "GlobalAvgPool2D":
            mods += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        elif t == "Dropout":
            mods.append(nn.Dropout(n["rate"]))
        elif t == "Dense":
            mods.append(nn.Linear(c, n["units"]))
            c = n["units"]
        else:
            raise SystemExit(f"bench_zoo: no hand-written torch equivalent of {t}")
    return nn.Sequential(*mods)


def keras_model(name: str, spec):
    import keras

    L = keras.layers

    def conv_bn(x, cout, k, s, depthwise=False):
        if depthwise:
            x = L.DepthwiseConv2D(k, s, padding="same" if s == 1 else "valid", use_bias=False)(
                L.ZeroPadding2D(k // 2)(x) if s != 1 else x)
        else:
            x = L.Conv2D(cout, k, s, padding="same" if s == 1 else "valid", use_bias=False)(
                L.ZeroPadding2D(k // 2)(x) if s != 1 and k > 1 else x)
        return L.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)

    inp = keras.Input(tuple(spec.input_shape))
    x, c = inp, spec.input_shape[-1]
    for n in spec.raw["model"]:
        t = n["type"]
        if t == "Conv2D":
            k, s = n["kernel_size"], n.get("strides", 1)
            x = L.Conv2D(n["filters"], k, s, padding="same" if s == 1 else "valid", use_bias=n.get("use_bias", True))(
                L.ZeroPadding2D(k // 2)(x) if s != 1 else x)
            c = n["filters"]
        elif t == "BatchNorm":
            x = L.BatchNormalization(momentum=0.9, epsilon=1e-5)(x)
        elif t in ("relu", "relu6") or t == "Activation":
            fn = n["fn"] if t == "Activation" else t
            x = L.ReLU(max_value=6.0 if fn == "relu6" else None)(x)
        elif t == "ResidualBlock":
            f, s = n["filters"], n.get("strides", 1)
            idt = conv_bn(x, f, 1, s) if s != 1 or c != f else x
            y = L.ReLU()(conv_bn(x, f, 3, s))
            x = L.ReLU()(L.Add()([conv_bn(y, f, 3, 1), idt]))
            c = f
        elif t == "InvertedResidual":
            f, s, e = n["filters"], n.get("strides", 1), n.get("expansion", 6)
            hid = int(round(c * e))
            y = x if e == 1 else L.ReLU(max_value=6.0)(conv_bn(x, hid, 1, 1))
            y = L.ReLU(max_value=6.0)(conv_bn(y, hid, 3, s, depthwise=True))
            y = conv_bn(y, f, 1, 1)
            x = L.Add()([x, y]) if s == 1 and c == f else y
            c = f
        elif t == "GlobalAvgPool2D":
            x = L.GlobalAveragePooling2D()(x)
        elif t == "Dropout":
            x = L.Dropout(n["rate"])(x)
        elif t == "Dense":
            x = L.Dense(n["units"])(x)
        else:
            raise SystemExit(f"bench_zoo: no hand-written Keras equivalent of {t}")
    return keras.Model(inp, x)


def inference(spec, x: np.ndarray, reps: int) -> dict:
    """ms per batch: ONNX Runtime on xnn's export vs torch eager on xnn's torch model (same weights)."""
    import tempfile

    import onnxruntime as ort

    from xnn.backends import get
    from xnn.init import init_params
    from xnn.interop.onnx import export_onnx

    params = init_params(spec, seed=0)
    be = get("torch")
    m = be.build(spec, params, dtype="float32")
    m.eval()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.onnx")
        export_onnx(spec, params, path)
        so = ort.SessionOptions()
        so.intra_op_num_threads = so.inter_op_num_threads = 1
        sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        name = sess.get_inputs()[0].name
        xt = torch.from_numpy(x)
        times = {"onnxruntime": [], "torch_eager": []}
        for _ in range(2):  # warm-up
            sess.run(None, {name: x})
            with torch.no_grad():
                m(xt)
        for _ in range(reps):
            t = bc.CLOCK()
            sess.run(None, {name: x})
            times["onnxruntime"].append(bc.CLOCK() - t)
            t = bc.CLOCK()
            with torch.no_grad():
                m(xt)
            times["torch_eager"].append(bc.CLOCK() - t)
    return {k: 1e3 * statistics.median(v) for k, v in times.items()}


RATIOS = [("xnn torch / torchvision-style torch", "xnn_torch", "torch_loop"),
          ("xnn keras / hand-written keras fit", "xnn_keras", "keras_fit"),
          ("xnn keras / tf.function loop", "xnn_keras", "tf_loop"),
          ("xnn keras XLA / tf.function XLA loop", "xnn_keras_xla", "tf_loop_xla"),
          ("xnn torch.compile / torch.compile loop", "xnn_torch_compile", "torch_loop_compile")]


def main() -> None:
    import xnn
    from xnn import zoo

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny data, one repetition (smoke run)")
    ap.add_argument("--models", default="resnet18_small,mobilenetv2_small")
    ap.add_argument("--xla", action="store_true", help="also xnn's train.compile and a tf.function loop with jit_compile")
    ap.add_argument("--torch-compile", action="store_true", help="also torch.compile on both torch candidates (minutes)")
    ap.add_argument("--cpu-time", action="store_true", help="time CPU seconds of this process (bench_compile's --cpu-time)")
    ap.add_argument("--json", metavar="FILE")
    a = ap.parse_args()
    if a.cpu_time:
        bc.use_cpu_time()
    bc.one_thread()
    warnings.simplefilter("ignore", RuntimeWarning)
    n_train, n_val, epochs, reps, step_reps = (128, 64, 2, 1, 1) if a.quick else (640, 256, 3, 3, 3)
    load = bc.load_average()
    print(f"load average {load:.2f}; {'CPU' if a.cpu_time else 'wall'} time; batch {BS}, {n_train} training samples, {n_val} validation, {epochs} epochs, "
          f"medians of {reps} end-to-end and {step_reps} warm repetitions, one thread")
    res = {"load_average": load, "quick": a.quick, "clock": "cpu" if a.cpu_time else "wall", "models": {}}
    for name in a.models.split(","):
        try:
            path = zoo.get(name).path
        except KeyError as e:
            print(f"\n{name}: skipped ({e.args[0]})")
            continue
        spec = xnn.load_spec(path)
        sd = {**spec.raw, "train": {"optimizer": {"type": "adam", "lr": 1e-3}, "batch_size": BS, "threads": 1,
                                    "metrics": []}}
        sd.pop("data", None)
        d = bc.data(list(spec.input_shape), n_train, n_val)
        d = (d[0], d[1] % spec.output.out_shape[-1], d[2], d[3] % spec.output.out_shape[-1])
        kb = lambda: keras_model(name, spec)  # noqa: E731
        tb = lambda: torch_model(name, spec)  # noqa: E731
        makers = {"xnn_torch": bc.xnn_maker(sd, "torch", False, d),
                  "torch_loop": bc.torch_loop_maker(name, d, False, tb),
                  "xnn_keras": bc.xnn_maker(sd, "keras", False, d),
                  "keras_fit": bc.keras_fit_maker(name, d, kb),
                  "tf_loop": bc.keras_loop_maker(name, d, False, kb)}
        if a.xla:
            makers.update({"xnn_keras_xla": bc.xnn_maker(sd, "keras", True, d),
                           "tf_loop_xla": bc.keras_loop_maker(name, d, True, kb)})
        for make in makers.values():  # untimed warm-up: imports and framework start-up
            make()[0]()
        r = bc.measure(makers, epochs, reps, step_reps, -(-n_train // BS))
        if a.torch_compile:  # one repetition: compile time dominates
            r.update(bc.measure({"xnn_torch_compile": bc.xnn_maker(sd, "torch", True, d),
                                 "torch_loop_compile": bc.torch_loop_maker(name, d, True, tb)},
                                epochs, 1, step_reps, -(-n_train // BS)))
        inf = inference(spec, d[2][:BS], 5 if a.quick else 20)
        res["models"][name] = {"candidates": r, "inference_ms": inf, "ratios": {}}
        print(f"\n{name}: {'candidate':<20}{'e2e s':>9}{'step ms':>9}")
        for k, v in r.items():
            print(f"  {k:<26}{v['e2e_s']:>9.2f}{v['step_ms']:>9.2f}")
        print(f"  {'ratio (peer time / xnn time)':<42}{'e2e':>8}{'step':>8}")
        for label, xk, pk in RATIOS:
            if xk not in r or pk not in r:
                continue
            e, s = r[pk]["e2e_s"] / r[xk]["e2e_s"], r[pk]["step_ms"] / r[xk]["step_ms"]
            res["models"][name]["ratios"][label] = {"e2e": e, "step": s}
            print(f"  {label:<42}{e:>7.2f}x{s:>7.2f}x")
        ratio = inf["torch_eager"] / inf["onnxruntime"]
        res["models"][name]["ratios"]["torch eager / onnxruntime inference"] = ratio
        print(f"  inference, batch {BS}: onnxruntime {inf['onnxruntime']:.1f} ms, torch eager {inf['torch_eager']:.1f} ms "
              f"(torch / onnxruntime {ratio:.2f}x)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
