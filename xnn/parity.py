"""Run one set of weights through several paths on one seeded input and compare them.

Paths: ``numpy`` (the reference, always float64), ``torch``, ``keras``, ``onnx`` (ONNX Runtime;
float32 only: it lacks float64 kernels for Conv, pooling, Erf, LSTM), ``octave`` (the
matlab/+xnn plain-M forward pass in GNU Octave, double precision).

Tolerances are fixed here per dtype, never derived from measurements. A pair of paths is
compared at the looser of their two tolerances.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .errors import ParityError, SpecError

PATHS = ("numpy", "torch", "keras", "onnx", "octave")
FLOAT32_ONLY = {"onnx"}
# (rtol, atol as a multiple of the output scale max(1, max|y_ref|))
TOL = {"float64": (1e-10, 1e-12), "float32": (1e-5, 1e-5)}


@dataclass
class PathResult:
    path: str
    dtype: str
    max_abs: float
    max_rel: float
    tol_abs: float
    ok: bool
    note: str = ""


@dataclass
class PairResult:
    a: str
    b: str
    max_abs: float
    tol_abs: float
    ok: bool


@dataclass
class ParityReport:
    spec_name: str
    dtype: str
    n: int
    scale: float
    paths: list[PathResult] = field(default_factory=list)
    pairs: list[PairResult] = field(default_factory=list)
    outputs: dict = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.paths) and all(p.ok for p in self.pairs)

    def to_json(self) -> dict:
        d = asdict(self)
        d.pop("outputs")
        d["ok"] = self.ok
        return d


def seeded_input(spec, n: int = 8, seed: int = 0) -> np.ndarray:
    """The parity input batch ``(n, *input.shape)``: N(0,1) floats or integer ids in range."""
    rng = np.random.default_rng(seed)
    shape = (n, *spec.input_shape)
    if spec.input.dtype.startswith("int"):
        first = spec.nodes[0]
        high = getattr(first.layer, "num_embeddings", 10)
        return rng.integers(0, high, size=shape).astype(np.int64)
    return rng.normal(size=shape)


def _run_path(path: str, spec, params, x, dtype: str, workdir: Path) -> np.ndarray:
    if path == "numpy":
        from .reference import forward

        return forward(spec, params, x, dtype="float64")
    xin = x.astype(dtype) if np.issubdtype(x.dtype, np.floating) else x
    if path in ("torch", "keras"):
        from .backends import get

        be = get(path)
        return be.predict(be.build(spec, params, dtype=dtype), xin)
    if path == "onnx":
        return _onnx_path(spec, params, x, workdir / "model.onnx")
    if path == "octave":
        return _octave_path(spec, params, x, workdir / "model.mat")
    raise SpecError(f"--backends: unknown path {path!r} (known: {', '.join(PATHS)})")


def run_parity(spec, params: dict[str, np.ndarray], paths=PATHS, dtype: str = "float64",
               n: int = 8, seed: int = 0, x: np.ndarray | None = None) -> ParityReport:
    """Run ``paths`` on one seeded batch and compare each with NumPy and every pair."""
    import tempfile

    paths = list(dict.fromkeys(["numpy", *paths]))
    x = seeded_input(spec, n, seed) if x is None else x
    outs: dict[str, np.ndarray] = {}
    dt: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="xnn-parity-") as tmp:
        for p in paths:
            d = "float32" if p in FLOAT32_ONLY else ("float64" if p == "numpy" else dtype)
            dt[p] = d
            outs[p] = np.asarray(_run_path(p, spec, params, x, d, Path(tmp)), dtype=np.float64)
    ref = outs["numpy"]
    scale = max(1.0, float(np.max(np.abs(ref))) if ref.size else 1.0)
    rep = ParityReport(spec.name, dtype, len(x), scale, outputs=outs)

    def tol(p):
        return TOL["float64" if dt[p] == "float64" else "float32"]

    for p in paths:
        if p == "numpy":
            continue
        rtol, atol = tol(p)
        diff = np.abs(outs[p] - ref) if outs[p].shape == ref.shape else np.array([np.inf])
        max_abs = float(diff.max()) if diff.size else 0.0
        ok = bool(np.all(diff <= atol * scale + rtol * np.abs(ref))) if outs[p].shape == ref.shape else False
        note = "float32 (no float64 kernels)" if p in FLOAT32_ONLY and dtype == "float64" else ""
        if outs[p].shape != ref.shape:
            note = f"shape {outs[p].shape} != {ref.shape}"
        rep.paths.append(PathResult(p, dt[p], max_abs, max_abs / scale, atol * scale, ok, note))
    others = [p for p in paths if p != "numpy"]
    for i, a in enumerate(others):
        for b in others[i + 1:]:
            ra, aa = tol(a)
            rb, ab = tol(b)
            atol = max(aa, ab) * scale
            rtol = max(ra, rb)
            if outs[a].shape != outs[b].shape:
                rep.pairs.append(PairResult(a, b, float("inf"), atol, False))
                continue
            d = np.abs(outs[a] - outs[b])
            ok = bool(np.all(d <= atol + rtol * np.abs(outs[b])))
            rep.pairs.append(PairResult(a, b, float(d.max()) if d.size else 0.0, atol, ok))
    return rep


def format_table(rep: ParityReport) -> str:
    """A plain-text table of every path against NumPy and every pair."""
    lines = [f"parity: {rep.spec_name}  dtype={rep.dtype}  batch={rep.n}  output scale={rep.scale:.3g}",
             f"{'path':<16}{'dtype':<9}{'max abs':>12}{'max rel':>12}{'tolerance':>12}  result"]
    for p in rep.paths:
        res = "ok" if p.ok else "FAIL"
        lines.append(f"{p.path + ' vs numpy':<16}{p.dtype:<9}{p.max_abs:>12.3e}{p.max_rel:>12.3e}{p.tol_abs:>12.1e}  {res}"
                     + (f"  ({p.note})" if p.note else ""))
    for q in rep.pairs:
        res = "ok" if q.ok else "FAIL"
        lines.append(f"{q.a + ' vs ' + q.b:<16}{'':<9}{q.max_abs:>12.3e}{'':>12}{q.tol_abs:>12.1e}  {res}")
    lines.append("all paths agree" if rep.ok else "PARITY FAILED")
    return "\n".join(lines)


def check(rep: ParityReport) -> None:
    if not rep.ok:
        bad = [f"{p.path} vs numpy: {p.max_abs:.3e} > {p.tol_abs:.1e}" for p in rep.paths if not p.ok]
        bad += [f"{q.a} vs {q.b}: {q.max_abs:.3e} > {q.tol_abs:.1e}" for q in rep.pairs if not q.ok]
        raise ParityError(bad, source=rep.spec_name)


def report_json(rep: ParityReport) -> str:
    return json.dumps(rep.to_json(), indent=2)


def _onnx_path(spec, params, x, path: Path) -> np.ndarray:
    from .interop.onnx import export_and_run

    return export_and_run(spec, params, x, path)


def _octave_path(spec, params, x, path: Path) -> np.ndarray:
    """Export to .mat (weights in float64, Octave computes in double), run matlab/+xnn's
    plain-M ``xnn.predict`` on ``x`` in one octave-cli call, return channels-last output."""
    import shutil
    import subprocess

    from scipy.io import loadmat

    from .interop.mat import export_mat
    from .interop.mat.layouts import from_dlarray_order

    octave = shutil.which("octave-cli")
    if octave is None:
        raise SpecError("--backends octave: GNU Octave (octave-cli) is not installed")
    matlab_dir = Path(__file__).resolve().parent.parent / "matlab"
    if not (matlab_dir / "+xnn").is_dir():
        raise SpecError(f"--backends octave: matlab/+xnn not found next to the xnn package ({matlab_dir})")
    spec64 = spec.with_overrides({"train.dtype": "float64"})
    export_mat(spec64, params, path, ref_input=x)
    out = path.with_name("octave_out.mat")
    script = path.with_name("run_predict.m")
    script.write_text(
        "warning('off', 'all');\n"
        f"addpath('{matlab_dir}');\n"
        f"m = xnn.load('{path}');\n"
        "y = xnn.predict(m, m.ref_input);\n"
        "fmt = m.ref_output_format;\n"
        f"save('-v7', '{out}', 'y', 'fmt');\n")
    proc = subprocess.run([octave, "--no-gui", "--quiet", "--no-window-system", str(script)],
                          capture_output=True, text=True, timeout=600, cwd=path.parent)
    if proc.returncode != 0 or not out.exists():
        err = [ln for ln in proc.stderr.splitlines() if "ignoring const execution_exception" not in ln]
        raise ParityError(f"octave: xnn.predict failed: {' '.join(err)[-400:]}")
    res = loadmat(out)
    fmt = str(res["fmt"][0]) if res["fmt"].size else "CB"
    y = np.asarray(res["y"], dtype=np.float64)
    want = (len(x), *spec.output.out_shape)
    if y.ndim < len(want):  # MATLAB drops trailing singleton dimensions
        y = y.reshape(y.shape + (1,) * (len(want) - y.ndim))
    return from_dlarray_order(y, fmt)
