import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def run_xnn(*args: str, cwd: str | Path | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    """``python -m xnn ARGS`` in a fresh interpreter (what a user's shell runs)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.run([sys.executable, "-m", "xnn", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture
def cli(capsys):
    """Run ``xnn.cli.main(argv)`` in-process; returns (exit code, stdout, stderr)."""
    from xnn.cli import main

    def go(*argv: str):
        code = main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return go
