"""MATLAB .mat interop benchmark, measured side by side in one run.

(a) ``xnn.interop.mat.export_mat`` of a ~10M-parameter float32 MLP (1024-2048-2048-2048-10):
    time and file size without and with compression, against a bare ``scipy.io.savemat`` of the
    same canonical weights (same compression) measured in the same run; the compressed file is
    read back by ``import_mat`` and must give the same weights.
(b) GNU Octave ``xnn.predict`` (matlab/+xnn, plain M, double) of the digits CNN on 100 samples,
    timed inside Octave with tic/toc around predict (startup and xnn.load excluded), against
    ``xnn.reference.forward`` (NumPy, float64) on the same input and the same stored weights.
    Outputs must agree within 1e-5 x output scale (scale = max(1, max |output|)).

    python bench/bench_mat.py [--quick] [--json FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MATLAB_DIR = ROOT / "matlab"
TOL = 1e-5  # x output scale

OCTAVE_JOB = r"""
warning('off', 'all');  % +xnn/load.m and save.m shadow builtins by design
addpath('@MATLAB@');
t = tic; m = xnn.load('@MODEL@'); tload = toc(t);
S = load('@INPUT@'); X = S.X;
Y = xnn.predict(m, X);  % warm-up
ts = zeros(1, @REPS@);
for r = 1:@REPS@
  t = tic; Y = xnn.predict(m, X); ts(r) = toc(t);
end
save('-v7', '@OUT@', 'Y', 'ts', 'tload');
fprintf('XNNBENCH predict median %.6f s over %d runs\n', median(ts), @REPS@);
"""


def mlp_spec(widths: list[int]):
    """A float32 Dense/relu stack: widths[0] inputs, then hidden widths, then the output width."""
    import xnn

    model: list = []
    for w in widths[1:-1]:
        model += [{"type": "Dense", "units": w}, "relu"]
    model.append({"type": "Dense", "units": widths[-1]})
    return xnn.load_spec({"name": "mlp_" + "_".join(map(str, widths)), "input": {"shape": [widths[0]]},
                          "model": model, "train": {"dtype": "float32"}})


def cnn_spec():
    """The digits CNN example (or the equivalent spec when examples/ lacks it)."""
    import xnn

    path = ROOT / "examples" / "digits_cnn.yaml"
    if path.exists():
        return xnn.load_spec(path)
    return xnn.load_spec({
        "name": "digits_cnn", "input": {"shape": [8, 8, 1]},
        "model": [{"type": "Conv2D", "filters": 16, "kernel_size": 3, "padding": "same"}, "relu",
                  {"type": "MaxPool2D", "pool_size": 2},
                  {"type": "Conv2D", "filters": 32, "kernel_size": 3, "padding": "same"}, "relu",
                  {"type": "Flatten"}, {"type": "Dense", "units": 64}, "relu", {"type": "Dense", "units": 10}]})


def median_time(fn: Callable[[], object], runs: int) -> float:
    """Median seconds of ``runs`` calls."""
    ts = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def bench_export(widths: list[int], runs: int, tmp: Path) -> list[dict]:
    """export_mat vs bare savemat, plain and compressed; checks the compressed file reads back."""
    from scipy.io import savemat

    import xnn
    from xnn.interop.mat import export_mat, import_mat

    spec = mlp_spec(widths)
    params = {k: v.astype(np.float32) for k, v in xnn.init_params(spec).items()}
    n_params = int(sum(v.size for v in params.values()))
    rows = []
    for compress in (False, True):
        path = tmp / f"mlp-{int(compress)}.mat"
        raw = tmp / f"raw-{int(compress)}.mat"
        # savemat wants MATLAB-legal names: '<node>.<param>' -> '<node>__<param>'
        flat = {k.replace(".", "__"): v for k, v in params.items()}
        t_raw = median_time(lambda: savemat(raw, flat, do_compression=compress), runs)
        t_xnn = median_time(lambda: export_mat(spec, params, path, compress=compress), runs)
        rows.append({"model": spec.name, "params": n_params, "compress": compress,
                     "export_mat_s": t_xnn, "savemat_s": t_raw, "ratio": t_xnn / t_raw,
                     "file_bytes": path.stat().st_size, "savemat_file_bytes": raw.stat().st_size})
    _, back = import_mat(tmp / "mlp-1.mat")
    same = set(back) == set(params) and all(np.array_equal(back[k], params[k]) for k in params)
    for r in rows:
        r["roundtrip_exact"] = bool(same)
    return rows


def bench_octave(n: int, reps: int, tmp: Path) -> dict:
    """Octave xnn.predict vs NumPy reference forward on the same n samples and stored weights."""
    from scipy.io import loadmat, savemat

    import xnn
    from xnn.interop.mat import export_mat

    octave = shutil.which("octave-cli")
    if octave is None:
        return {"skipped": "octave-cli not found"}
    spec = cnn_spec()
    # the file stores float32 weights: the NumPy side uses exactly those numbers, in float64
    params = {k: v.astype(np.float32) for k, v in xnn.init_params(spec).items()}
    x = np.random.default_rng(0).normal(size=(n, *spec.input_shape))
    model_path, in_path, out_path = tmp / "cnn.mat", tmp / "x.mat", tmp / "y.mat"
    export_mat(spec, params, model_path)
    # channels-last (N, H, W, C) -> dlarray H x W x C x N
    savemat(in_path, {"X": np.ascontiguousarray(np.moveaxis(x, 0, -1))})
    job = tmp / "bench_job.m"
    job.write_text(OCTAVE_JOB.replace("@MATLAB@", str(MATLAB_DIR)).replace("@MODEL@", str(model_path))
                   .replace("@INPUT@", str(in_path)).replace("@OUT@", str(out_path)).replace("@REPS@", str(reps)))
    t = time.perf_counter()
    proc = subprocess.run([octave, "--no-gui", "--quiet", "--no-window-system", str(job)], cwd=tmp,
                          capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t
    if proc.returncode != 0 or not out_path.exists():
        raise SystemExit(f"octave-cli failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    res = loadmat(out_path)
    y_oct = np.asarray(res["Y"], np.float64).T  # output 'CB': C x N -> (N, C)
    t_oct = float(np.median(res["ts"]))

    def ref() -> np.ndarray:
        return xnn.reference.forward(spec, params, x, dtype="float64")

    ref()  # warm-up
    t_np = median_time(ref, reps)
    y_ref = ref()
    scale = max(1.0, float(np.max(np.abs(y_ref))))
    err = float(np.max(np.abs(y_oct - y_ref))) / scale if y_oct.shape == y_ref.shape else float("inf")
    return {"model": spec.name, "samples": n, "reps": reps, "octave_predict_s": t_oct, "numpy_forward_s": t_np,
            "ratio": t_oct / t_np, "octave_load_s": float(np.asarray(res["tload"]).ravel()[0]),
            "octave_process_wall_s": wall, "max_scaled_err": err, "outputs_agree": bool(err <= TOL)}


def octave_version() -> str | None:
    exe = shutil.which("octave-cli")
    if exe is None:
        return None
    out = subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0] if out else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small MLP, few repetitions (smoke test)")
    ap.add_argument("--json", type=Path, help="write the figures to this file")
    args = ap.parse_args(argv)
    widths, runs, reps = ([256, 512, 512, 10], 1, 2) if args.quick else ([1024, 2048, 2048, 2048, 10], 3, 5)

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        export_rows = bench_export(widths, runs, tmp)
        octave = bench_octave(100, reps, tmp)

    print(f".mat export, median of {runs} runs (savemat = bare scipy.io.savemat of the same weights)")
    print(f"{'model':<28}{'params':>11}{'compress':>9}{'export s':>10}{'savemat s':>10}{'ratio':>8}{'MB':>9}")
    for r in export_rows:
        print(f"{r['model']:<28}{r['params']:>11}{'yes' if r['compress'] else 'no':>9}{r['export_mat_s']:>10.3f}"
              f"{r['savemat_s']:>10.3f}{r['ratio']:>7.2f}x{r['file_bytes'] / 1e6:>9.2f}")
    print(f"compressed file read back by import_mat: {'exact' if export_rows[0]['roundtrip_exact'] else 'MISMATCH'}")
    ok = all(r["roundtrip_exact"] for r in export_rows)
    if "skipped" in octave:
        print(f"\nOctave predict: skipped ({octave['skipped']})")
    else:
        o = octave
        print(f"\nOctave xnn.predict vs NumPy reference forward, {o['model']}, {o['samples']} samples, "
              f"median of {o['reps']}")
        print(f"{'octave s':>10}{'numpy s':>10}{'ratio':>9}{'err':>10}  agree   "
              f"(octave load {o['octave_load_s']:.3f} s, process wall {o['octave_process_wall_s']:.1f} s)")
        print(f"{o['octave_predict_s']:>10.4f}{o['numpy_forward_s']:>10.4f}{o['ratio']:>8.2f}x"
              f"{o['max_scaled_err']:>10.1e}  {'yes' if o['outputs_agree'] else 'NO'}")
        ok = ok and o["outputs_agree"]
    if args.json:
        import scipy

        args.json.write_text(json.dumps({
            "bench": "mat", "quick": args.quick, "cpus": os.cpu_count(), "python": sys.version.split()[0],
            "numpy": np.__version__, "scipy": scipy.__version__, "octave": octave_version(), "tolerance": TOL,
            "export": export_rows, "octave_predict": octave, "all_ok": ok}, indent=2) + "\n")
    if not ok:
        print("ERROR: round trip or Octave outputs disagree", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
