"""Time `xnn validate` and `xnn info` in fresh processes, and check that neither imports a
framework. Prints seconds (median of runs), peak memory, and the ratio to a bare
`python -c 'import xnn'` measured in the same run, on:

- a 50-layer spec (the everyday case);
- hostile and huge specs (docs/security.md): a ~500-byte YAML alias bomb (9 ** 8 values once
  expanded), 14 MB specs (350,000 layers; one 14 MB list; a 14 MB string), and 20,000 layers.
  Each must be validated or refused (exit 2, one line) in under 2 s on a quiet machine.

    python bench/bench_validate.py [--quick]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.hostile.corpus import TINY_SPEC  # noqa: E402
from tests.hostile.gen_spec import alias_bomb_text, big_list_text, layers_text  # noqa: E402

PROPOSED_NODES = 400_000  # a MAX_SPEC_NODES that refuses 14 MB of tiny values within 2 s


def spec_50() -> dict:
    model = []
    for i in range(24):
        model += [{"type": "Dense", "units": 64}, "relu"]
    model += [{"type": "Dense", "units": 10}, {"type": "Dropout", "rate": 0.1}]
    return {"name": "deep50", "input": {"shape": [32]}, "model": model, "data": {"source": "synthetic_classification"}}


def timed(cmd: list[str], n: int = 5, codes: tuple[int, ...] = (0,)) -> float:
    return run_timed(cmd, n, codes)[0]


def run_timed(cmd: list[str], n: int = 5, codes: tuple[int, ...] = (0,), env: dict | None = None
              ) -> tuple[float, int, int, str]:
    """(median seconds, exit code, peak RSS bytes of the child (from wait4), first stderr line)."""
    ts, rss = [], 0
    for _ in range(n):
        with tempfile.TemporaryFile() as fo, tempfile.TemporaryFile() as fe:
            t = time.perf_counter()
            p = subprocess.Popen(cmd, stdout=fo, stderr=fe, env={**os.environ, **(env or {})})
            _, status, ru = os.wait4(p.pid, 0)
            ts.append(time.perf_counter() - t)
            code = os.waitstatus_to_exitcode(status)
            rss = max(rss, ru.ru_maxrss * 1024)
            fo.seek(0)
            fe.seek(0)
            out, err = fo.read().decode(errors="replace"), fe.read().decode(errors="replace")
        if code not in codes:
            raise SystemExit(f"{' '.join(cmd)} failed ({code}):\n{out[-2000:]}{err[-2000:]}")
    return statistics.median(ts), code, rss, (err.strip().splitlines() or [""])[0]


def hostile_specs(d: Path) -> list[tuple[str, Path]]:
    """The specs of the issue's findings, written under ``d``."""
    out = []

    def put(label: str, name: str, text: str) -> None:
        p = d / name
        p.write_text(text)
        out.append((f"{label} ({p.stat().st_size / 1e6:.3g} MB)" if p.stat().st_size > 1e5 else
                    f"{label} ({p.stat().st_size} B)", p))

    put("alias bomb 9**8", "bomb.yaml", alias_bomb_text())
    put("20,000 layers", "l20k.yaml", layers_text(20_000))
    put("350,000 layers", "l350k.yaml", layers_text(350_000))
    put("one long list", "list14.yaml", big_list_text(14_000_000))
    put("one long name", "name14.yaml", TINY_SPEC.replace("name: tiny", "name: " + "n" * 14_000_000))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one run per measurement")
    args = ap.parse_args()
    n = 1 if args.quick else 3
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "deep50.yaml"
        p.write_text(yaml.safe_dump(spec_50()))
        base = timed([sys.executable, "-c", "import xnn"])
        v = timed([sys.executable, "-m", "xnn", "validate", str(p)])
        i = timed([sys.executable, "-m", "xnn", "info", str(p)])
        check = ("import sys, xnn.cli; xnn.cli.main(['validate', %r]); xnn.cli.main(['info', %r]); "
                 "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))") % (str(p), str(p))
        r = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True)
        frameworks = r.stdout.strip().splitlines()[-1]
    print(f"import xnn            {base:6.3f} s")
    print(f"xnn validate (50)     {v:6.3f} s   ratio to import xnn {v / base:5.2f}")
    print(f"xnn info (50)         {i:6.3f} s   ratio to import xnn {i / base:5.2f}")
    print(f"frameworks imported by validate+info: {frameworks}")
    print()
    print(f"{'spec':32s} {'verb':9s} {'seconds':>8s} {'ratio':>6s} {'peak MB':>8s}  outcome")
    with tempfile.TemporaryDirectory() as d:
        for label, p in hostile_specs(Path(d)):
            verbs = ("validate", "info") if "20,000" in label or "bomb" in label else ("validate",)
            for verb in verbs:
                t, code, rss, first = run_timed([sys.executable, "-m", "xnn", verb, str(p)], n, codes=(0, 2))
                outcome = "valid" if code == 0 else "refused: " + first.split(": ", 2)[-1][:70]
                print(f"{label:32s} {verb:9s} {t:8.3f} {t / base:6.2f} {rss / 2**20:8.0f}  {outcome}")
            if "14" in label and "name" not in label:  # the node limit decides these: show a lower one too
                t, code, rss, first = run_timed([sys.executable, "-m", "xnn", "validate", str(p)], n, codes=(0, 2),
                                                env={"XNN_LIMIT_MAX_SPEC_NODES": str(PROPOSED_NODES)})
                print(f"{'  with MAX_SPEC_NODES=' + format(PROPOSED_NODES, ','):32s} {'validate':9s} {t:8.3f} "
                      f"{t / base:6.2f} {rss / 2**20:8.0f}  {'valid' if code == 0 else 'refused'}")


if __name__ == "__main__":
    main()
