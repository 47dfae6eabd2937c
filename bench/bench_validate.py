"""Time `xnn validate` and `xnn info` on a 50-layer spec, in fresh processes, and check that
neither imports a framework. Prints seconds (median of runs) and the ratio to a bare
`python -c 'import xnn'` measured in the same run.

    python bench/bench_validate.py
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml


def spec_50() -> dict:
    model = []
    for i in range(24):
        model += [{"type": "Dense", "units": 64}, "relu"]
    model += [{"type": "Dense", "units": 10}, {"type": "Dropout", "rate": 0.1}]
    return {"name": "deep50", "input": {"shape": [32]}, "model": model}


def timed(cmd: list[str], n: int = 5) -> float:
    ts = []
    for _ in range(n):
        t = time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True)
        ts.append(time.perf_counter() - t)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stdout}{r.stderr}")
    return statistics.median(ts)


def main() -> None:
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


if __name__ == "__main__":
    main()
