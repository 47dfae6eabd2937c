"""Run an ``xnn`` verb on a hostile input as a user's shell would, and check the promises of
docs/security.md: exit code 2, error lines only (no traceback) with the first naming the file,
bounded memory (the child's own peak resident memory) and a hang guard, and no file changed in the
watched folders except the outputs the command was asked to write."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

MAX_RSS_BYTES = 1 << 30  # "no input in the corpus makes any verb use more than 1 GB"
HANG_GUARD_S = 240  # a guard against hangs, not a timing assertion


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    max_rss: int  # bytes


def snapshot(*dirs: str | Path) -> dict[str, str]:
    """sha256 of every file under ``dirs`` (symlinks recorded by target, not followed)."""
    snap = {}
    for d in dirs:
        for root, subdirs, files in os.walk(d):
            for f in files:
                p = os.path.join(root, f)
                if os.path.islink(p):
                    snap[p] = "link:" + os.readlink(p)
                elif os.path.isfile(p):
                    with open(p, "rb") as fh:
                        snap[p] = hashlib.sha256(fh.read()).hexdigest()
                else:
                    snap[p] = "special"
    return snap


# The child reports its own peak: VmHWM of its post-exec address space, written at exit. The
# kernel's ru_maxrss (wait4) also counts the pre-exec copy of the parent, which is pytest itself
# and grows past 1 GB once earlier tests have loaded the frameworks in-process.
_WRAPPER = """
import atexit, os, runpy, sys
def _peak():
    try:
        with open("/proc/self/status") as f:
            kb = next(int(ln.split()[1]) for ln in f if ln.startswith("VmHWM:"))
        with open(os.environ["XNN_TEST_PEAK_FILE"], "w") as out:
            out.write(str(kb))
    except (OSError, StopIteration):
        pass
atexit.register(_peak)
sys.argv = ["xnn", *sys.argv[1:]]
runpy.run_module("xnn", run_name="__main__", alter_sys=True)
"""


def run_cli(*args: str | Path, cwd: str | Path | None = None, env: dict | None = None,
            timeout: float = HANG_GUARD_S) -> Outcome:
    """``python -m xnn ARGS`` in a fresh interpreter; ``max_rss`` is the child's own peak resident
    memory (VmHWM at exit; -1 where /proc does not tell)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="xnn-peak-") as td:
        peak_file = Path(td) / "peak"
        e = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": "", **(env or {}),
             "XNN_TEST_PEAK_FILE": str(peak_file)}
        try:
            p = subprocess.run([sys.executable, "-c", _WRAPPER, *map(str, args)], cwd=cwd, env=e,
                               capture_output=True, stdin=subprocess.DEVNULL, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"xnn {' '.join(map(str, args))}: still running after {timeout} s (hang)") from None
        peak = int(peak_file.read_text()) * 1024 if peak_file.exists() else -1
        return Outcome(p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace"), peak)


def assert_refused(o: Outcome, names: str | Path | None = None, code: int = 2, field: str | None = None) -> str:
    """Exit ``code``; no traceback; every stderr line an ``error:``/``warning:`` line; the first
    error line names ``names`` (a file, shown by its name) and ``field`` when given. Returns it."""
    assert "Traceback" not in o.err, o.err[-3000:]
    assert o.code == code, f"exit {o.code} (expected {code})\nstdout: {o.out[-1500:]}\nstderr: {o.err[-1500:]}"
    lines = [ln for ln in o.err.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error: ")]
    assert errors, o.err
    stray = [ln for ln in lines if not ln.startswith(("error: ", "warning: "))]
    assert not stray, f"lines that are neither error: nor warning: {stray[:5]}"
    first = errors[0]
    if names is not None:
        assert Path(names).name in first, f"{first!r} does not name {Path(names).name}"
    if field is not None:
        assert field in first, f"{first!r} does not name {field!r}"
    if o.max_rss >= 0:
        assert o.max_rss < MAX_RSS_BYTES, f"peak RSS {o.max_rss / 2**20:.0f} MiB"
    return first


def assert_unchanged(before: dict[str, str], after: dict[str, str], allowed: tuple[str | Path, ...] = ()) -> None:
    """No file in ``before`` changed or vanished, and no new file appeared except ``allowed``."""
    allowed_s = {str(a) for a in allowed}
    changed = [p for p in before if after.get(p) != before[p] and p not in allowed_s]
    new = [p for p in after if p not in before and p not in allowed_s]
    assert not changed, f"changed or removed: {changed[:5]}"
    assert not new, f"new files: {new[:5]}"
