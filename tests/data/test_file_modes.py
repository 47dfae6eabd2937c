"""Files xnn writes get the user's umask (0666 & ~umask), as ``open()`` would, not mkstemp's 0600:
shared run folders stay readable to the group where the umask allows."""
from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from xnn.fileio import atomic_path, write_json


@pytest.mark.parametrize("mask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_atomic_writes_follow_the_umask(tmp_path, mask, mode):
    old = os.umask(mask)
    try:
        with atomic_path(tmp_path / "a.bin") as t:
            t.write_bytes(b"x")
        write_json(tmp_path / "b.json", {"k": 1})
    finally:
        os.umask(old)
    for f in ("a.bin", "b.json"):
        assert stat.S_IMODE((tmp_path / f).stat().st_mode) == mode, f


def test_run_folder_files_follow_the_umask(tmp_path):
    """A real `xnn train` under umask 022: every file of the run folder is 0644."""
    out = tmp_path / "run"
    code = ("import os, sys; os.umask(0o022); from xnn.cli import main; "
            f"sys.exit(main(['train', 'examples/iris_mlp.yaml', '--out', {str(out)!r}, '--set', 'train.epochs=1']))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert r.returncode == 0, r.stderr
    files = [p for p in out.rglob("*") if p.is_file()]
    assert files
    bad = {str(p.relative_to(out)): oct(stat.S_IMODE(p.stat().st_mode)) for p in files
           if stat.S_IMODE(p.stat().st_mode) != 0o644}
    assert not bad, bad
