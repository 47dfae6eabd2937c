"""What ``xnn optimize`` reports, measured the same way for both models: the spec's loss and
metrics on the run's test split, top-1 agreement, file sizes, and ONNX Runtime inference time
(same batch, same session options, repetitions interleaved A/B/B/A, medians)."""
from __future__ import annotations

import gzip
import math
import statistics
import time
from pathlib import Path

import numpy as np


def run_data(spec, manifest: dict, run_dir: Path):
    """The run's own data (its splits), refused when it is no longer the data the run was trained on."""
    from ..data import load
    from ..errors import DataError

    ds = load(spec)
    want = manifest.get("data_sha256") if isinstance(manifest, dict) else None
    if isinstance(want, str) and ds.data_hash != want:
        raise DataError(f"{run_dir / 'manifest.json'}: the spec's data ({spec.data.source}) is no longer the data "
                        f"this run was trained on (sha256 differs), so its splits would be other samples")
    if len(ds.test[0]) == 0:
        raise DataError(f"{run_dir}: the run's test split is empty (data.split.test is 0): nothing to compare on")
    return ds


def session(path: str | Path, threads: int = 1):
    """An ONNX Runtime CPU session with every graph optimisation on (what a deployment runs; the
    int8 kernels need the QDQ fusions)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.intra_op_num_threads = int(threads)
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def _feed(sess, x: np.ndarray) -> dict:
    xin = x.astype(np.float32) if np.issubdtype(x.dtype, np.floating) else x
    return {sess.get_inputs()[0].name: xin}


def outputs(sess, x: np.ndarray, batch: int = 256) -> np.ndarray:
    parts = [sess.run(None, _feed(sess, x[i:i + batch]))[0] for i in range(0, len(x), batch)]
    return np.concatenate(parts, axis=0)


def scores(spec, z: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """The spec's loss and metrics (xnn's formulas, float64) of outputs ``z``."""
    from ..train.losses import evaluate_outputs

    return {k: float(v) for k, v in evaluate_outputs(spec.train, np.asarray(z, np.float64), y).items()}


def agreement(spec, za: np.ndarray, zb: np.ndarray) -> float | None:
    """Fraction of samples (pixels) whose top-1 class is the same (classification only)."""
    if spec.train.loss.type != "cross_entropy":
        return None
    return float(np.mean(np.argmax(za, axis=-1) == np.argmax(zb, axis=-1)))


def timing(sa, sb, x: np.ndarray, repeats: int = 50, warmup: int = 5) -> tuple[float, float]:
    """Median seconds of one run of each session on batch ``x``; runs interleaved (A B, then B A,
    ...) so that a machine's drift (other work, clocks) falls on both alike."""
    fa, fb = _feed(sa, x), _feed(sb, x)
    for _ in range(warmup):
        sa.run(None, fa)
        sb.run(None, fb)
    ta, tb = [], []
    for r in range(repeats):
        order = ((sa, fa, ta), (sb, fb, tb)) if r % 2 == 0 else ((sb, fb, tb), (sa, fa, ta))
        for s, f, acc in order:
            t0 = time.perf_counter()
            s.run(None, f)
            acc.append(time.perf_counter() - t0)
    return statistics.median(ta), statistics.median(tb)


def gzip_size(path: str | Path) -> int:
    return len(gzip.compress(Path(path).read_bytes(), compresslevel=6, mtime=0))


def time_batch(x: np.ndarray, batch: int) -> np.ndarray:
    """``batch`` samples of ``x`` (repeated when ``x`` is shorter): the timing batch."""
    if len(x) >= batch:
        return x[:batch]
    reps = math.ceil(batch / len(x))
    return np.concatenate([x] * reps, axis=0)[:batch]


def compare(spec, path_a: Path, path_b: Path, x: np.ndarray, y: np.ndarray, labels: tuple[str, str],
            batch: int = 64, repeats: int = 50, threads: int = 1, sizes: dict | None = None) -> dict:
    """The side-by-side report of two ONNX models of ``spec`` on ``(x, y)`` (JSON-able)."""
    sa, sb = session(path_a, threads), session(path_b, threads)
    za, zb = outputs(sa, x), outputs(sb, x)
    ma, mb = scores(spec, za, y), scores(spec, zb, y)
    xb = time_batch(x, batch)
    ta, tb = timing(sa, sb, xb, repeats=repeats)
    rep = {
        "labels": list(labels), "n_test": len(x),
        "metrics": {k: [ma[k], mb[k]] for k in ma},
        "top1_agreement": agreement(spec, za, zb),
        "max_abs_output_diff": float(np.max(np.abs(za.astype(np.float64) - zb.astype(np.float64)))),
        "file_bytes": [Path(path_a).stat().st_size, Path(path_b).stat().st_size],
        "timing": {"batch": len(xb), "repeats": int(repeats), "threads": int(threads),
                   "median_s": [ta, tb], "speedup": ta / tb if tb > 0 else None},
    }
    if sizes:
        rep.update(sizes)
    return rep


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def format_report(rep: dict) -> str:
    """The table ``xnn optimize`` prints (see docs/tuning.md for an example)."""
    a, b = rep["labels"]
    rows = [("", a, b, "after/before")]
    for k, (va, vb) in rep["metrics"].items():
        change = f"{(vb - va) * 100:+.2f} pt" if k in ("accuracy", "mean_iou") else f"{vb - va:+.4g}"
        rows.append((f"test {k}", f"{va:.4f}", f"{vb:.4f}", change))
    if rep.get("top1_agreement") is not None:
        rows.append(("top-1 agreement", "", f"{rep['top1_agreement'] * 100:.2f} %", ""))
    fa, fb = rep["file_bytes"]
    rows.append(("ONNX file size", _size(fa), _size(fb), f"{fb / fa:.2f}x"))
    if "gzip_bytes" in rep:
        ga, gb = rep["gzip_bytes"]
        rows.append(("gzip-compressed size", _size(ga), _size(gb), f"{gb / ga:.2f}x"))
    t = rep["timing"]
    ta, tb = t["median_s"]
    rows.append((f"inference, batch {t['batch']}", f"{ta * 1e3:.3f} ms", f"{tb * 1e3:.3f} ms",
                 f"{ta / tb:.2f}x speed" if tb > 0 else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    lines.append(f"(ONNX Runtime CPU, {t['threads']} thread(s), all graph optimisations, median of {t['repeats']} "
                 f"interleaved runs each; {rep['n_test']} test samples)")
    for n in rep.get("notes", []):
        lines.append(f"note: {n}")
    return "\n".join(ln.rstrip() for ln in lines)
