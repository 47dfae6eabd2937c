"""ONNX interop benchmark: xnn's direct export vs torch.onnx's dynamo exporter, and ONNX Runtime
inference vs torch eager, all measured side by side in one process.

(a) Export time of the same model (same weights) by ``xnn.interop.onnx.export_onnx`` (written from
    the IR) and by ``torch.onnx.export(model, (x,), path, dynamo=True)`` of the compiled torch
    module: median of warm runs (the first call of each is timed separately as "cold"). Both files
    are run in ONNX Runtime on one batch and must agree within 1e-5 x output scale
    (scale = max(1, max |output|), as matlab/+xnn/compare.m defines it).
(b) Inference throughput (samples/s) of xnn's exported model in ONNX Runtime (default graph
    optimizations) vs the compiled torch module in eager mode, batch 1 and 64, 1 thread each.

    python bench/bench_onnx.py [--quick] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
TOL = 1e-5  # x output scale: float32 agreement between two ONNX graphs


def load_models() -> list[tuple[str, object]]:
    """(label, spec) for the digits CNN and an MLP; the example files are used when present."""
    import xnn

    cnn = ROOT / "examples" / "digits_cnn.yaml"
    mlp = ROOT / "examples" / "digits_mlp.yaml"
    cnn_spec = xnn.load_spec(cnn) if cnn.exists() else xnn.load_spec({
        "name": "digits_cnn", "input": {"shape": [8, 8, 1]},
        "model": [{"type": "Conv2D", "filters": 16, "kernel_size": 3, "padding": "same"}, "relu",
                  {"type": "MaxPool2D", "pool_size": 2},
                  {"type": "Conv2D", "filters": 32, "kernel_size": 3, "padding": "same"}, "relu",
                  {"type": "Flatten"}, {"type": "Dense", "units": 64}, "relu", {"type": "Dense", "units": 10}]})
    mlp_spec = xnn.load_spec(mlp) if mlp.exists() else xnn.load_spec({
        "name": "digits_mlp", "input": {"shape": [64]},
        "model": [{"type": "Dense", "units": 64}, "relu", {"type": "Dense", "units": 32}, "relu",
                  {"type": "Dense", "units": 10}]})
    return [("digits_cnn", cnn_spec), ("digits_mlp", mlp_spec)]


def quiet_torch_onnx() -> None:
    """Silence the dynamo exporter's warnings (e.g. 'torchvision is not installed'); call after
    importing torch, whose logging setup resets its loggers' levels."""
    import torch.onnx  # noqa: F401

    warnings.filterwarnings("ignore")
    for name in ("torch.onnx", "torch.onnx._internal.exporter._registration", "torch.export", "torch._dynamo",
                 "onnxscript"):
        logging.getLogger(name).setLevel(logging.ERROR)


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float, object]:
    """(first call seconds, median of ``runs`` further calls, the first call's result)."""
    t = time.perf_counter()
    out = fn()
    cold = time.perf_counter() - t
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return cold, statistics.median(ts) if ts else cold, out


def per_call(fn: Callable[[], object], min_round_s: float, rounds: int) -> float:
    """Median seconds per call: loops calibrated so that one round lasts about ``min_round_s``."""
    fn()  # warm-up
    n, t = 1, 0.0
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - t0
        if t >= min_round_s / 4 or n >= 1 << 20:
            break
        n *= 4
    n = max(1, int(n * min_round_s / max(t, 1e-9)))
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        out.append((time.perf_counter() - t0) / n)
    return statistics.median(out)


def ort_session(path: Path, threads: int = 1):
    """An ONNX Runtime CPU session with default optimizations and ``threads`` threads."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = threads
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def scaled_err(a: np.ndarray, ref: np.ndarray) -> float:
    """max |a - ref| / max(1, max |ref|)."""
    return float(np.max(np.abs(a.astype(np.float64) - ref)) / max(1.0, float(np.max(np.abs(ref)))))


def bench_export(label: str, spec, runs: int, tmp: Path) -> dict:
    """Export timings of both exporters and the ORT agreement of their files."""
    import torch

    import xnn
    import xnn.backends
    from xnn.interop.onnx import export_onnx, run_onnx

    params = xnn.init_params(spec)
    model = xnn.backends.get("torch").build(spec, params, dtype="float32")
    model.eval()
    x = np.random.default_rng(0).normal(size=(4, *spec.input_shape)).astype(np.float32)
    xt = torch.from_numpy(x)
    p_xnn, p_torch = tmp / f"{label}-xnn.onnx", tmp / f"{label}-dynamo.onnx"

    xnn_cold, xnn_s, _ = timed(lambda: export_onnx(spec, params, p_xnn), runs)
    torch_cold, torch_s, _ = timed(lambda: torch.onnx.export(model, (xt,), str(p_torch), dynamo=True,
                                                          verbose=False), runs)
    y_xnn, y_torch = run_onnx(p_xnn, x), run_onnx(p_torch, x)
    ref = xnn.reference.forward(spec, params, x, dtype="float64")
    err = scaled_err(y_xnn, y_torch.astype(np.float64))
    err_ref = scaled_err(y_xnn, ref)
    ok = err <= TOL and err_ref <= TOL
    return {"model": label, "params": int(sum(v.size for v in params.values())),
            "xnn_export_s": xnn_s, "torch_dynamo_export_s": torch_s,
            "xnn_export_cold_s": xnn_cold, "torch_dynamo_export_cold_s": torch_cold,
            "ratio": torch_s / xnn_s, "max_scaled_err_xnn_vs_dynamo": err,
            "max_scaled_err_xnn_vs_reference": err_ref, "outputs_agree": bool(ok)}


def bench_infer(label: str, spec, batches: list[int], min_round_s: float, rounds: int, tmp: Path) -> list[dict]:
    """Throughput of xnn's export in ONNX Runtime vs torch eager, 1 thread each."""
    import torch

    import xnn
    import xnn.backends
    from xnn.interop.onnx import export_onnx

    torch.set_num_threads(1)
    params = xnn.init_params(spec)
    model = xnn.backends.get("torch").build(spec, params, dtype="float32")
    model.eval()
    path = export_onnx(spec, params, tmp / f"{label}-infer.onnx")
    sess = ort_session(path, threads=1)
    name = sess.get_inputs()[0].name
    rows = []
    for b in batches:
        x = np.random.default_rng(b).normal(size=(b, *spec.input_shape)).astype(np.float32)
        xt = torch.from_numpy(x)

        def run_torch() -> np.ndarray:
            with torch.inference_mode():
                return model(xt).numpy()

        def run_ort() -> np.ndarray:
            return sess.run(None, {name: x})[0]

        err = scaled_err(run_ort(), run_torch().astype(np.float64))
        t_torch = per_call(run_torch, min_round_s, rounds)
        t_ort = per_call(run_ort, min_round_s, rounds)
        rows.append({"model": label, "batch": b, "torch_eager_per_s": b / t_torch, "ort_per_s": b / t_ort,
                     "torch_eager_call_s": t_torch, "ort_call_s": t_ort, "ratio": t_torch / t_ort,
                     "max_scaled_err_ort_vs_torch": err, "outputs_agree": bool(err <= TOL)})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few repetitions (smoke test)")
    ap.add_argument("--json", type=Path, help="write the figures to this file")
    args = ap.parse_args(argv)
    quiet_torch_onnx()
    runs, min_round_s, rounds = (1, 0.02, 2) if args.quick else (5, 0.3, 5)

    import onnxruntime
    import torch

    models = load_models()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        export_rows = [bench_export(label, spec, runs, tmp) for label, spec in models]
        infer_rows = [r for label, spec in models for r in bench_infer(label, spec, [1, 64], min_round_s, rounds, tmp)]

    print(f"ONNX export, median of {runs} warm runs (cold = first call in the process)")
    print(f"{'model':<12}{'xnn s':>10}{'dynamo s':>10}{'ratio':>9}{'xnn cold':>10}{'dyn cold':>10}"
          f"{'err':>10}  agree")
    for r in export_rows:
        print(f"{r['model']:<12}{r['xnn_export_s']:>10.4f}{r['torch_dynamo_export_s']:>10.3f}"
              f"{r['ratio']:>8.1f}x{r['xnn_export_cold_s']:>10.3f}{r['torch_dynamo_export_cold_s']:>10.3f}"
              f"{r['max_scaled_err_xnn_vs_dynamo']:>10.1e}  {'yes' if r['outputs_agree'] else 'NO'}")
    print("\nInference, 1 thread: ONNX Runtime (xnn export) vs torch eager, samples/s")
    print(f"{'model':<12}{'batch':>6}{'torch/s':>12}{'ORT/s':>12}{'ratio':>9}{'err':>10}  agree")
    for r in infer_rows:
        print(f"{r['model']:<12}{r['batch']:>6}{r['torch_eager_per_s']:>12.0f}{r['ort_per_s']:>12.0f}"
              f"{r['ratio']:>8.2f}x{r['max_scaled_err_ort_vs_torch']:>10.1e}  {'yes' if r['outputs_agree'] else 'NO'}")
    ok = all(r["outputs_agree"] for r in export_rows + infer_rows)
    if args.json:
        args.json.write_text(json.dumps({
            "bench": "onnx", "quick": args.quick, "cpus": os.cpu_count(), "python": sys.version.split()[0],
            "torch": torch.__version__, "onnxruntime": onnxruntime.__version__, "tolerance": TOL,
            "export": export_rows, "inference": infer_rows, "all_outputs_agree": ok}, indent=2) + "\n")
    if not ok:
        print("ERROR: some outputs disagree beyond 1e-5 x output scale", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
