"""Atomic writes (temp file in the same folder, fsync, rename) and safe JSON/YAML helpers."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import OutputError


def _umask() -> int:
    """The process umask, read without changing it where /proc allows (no race with threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    m = os.umask(0o022)
    os.umask(m)
    return m


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path next to ``path``; on success fsync and rename it over ``path``.

    The file gets the mode a plain ``open(path, "w")`` would give (0666 minus the umask), not
    mkstemp's 0600, so shared run folders stay readable where the user's umask allows."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.fchmod(fd, 0o666 & ~_umask())
        os.close(fd)
    except OSError as e:
        raise OutputError(f"{path}: cannot write ({_reason(e)})") from None
    tmp_p = Path(tmp)
    try:
        try:
            yield tmp_p
            with open(tmp_p, "rb+") as f:
                os.fsync(f.fileno())
            os.replace(tmp_p, path)
        except OSError as e:  # full disk, quota, read-only: the old file is still whole
            raise OutputError(f"{path}: cannot write ({_reason(e)}); nothing was changed") from None
        try:
            dfd = os.open(path.parent, os.O_RDONLY)
            os.fsync(dfd)
            os.close(dfd)
        except OSError:
            pass
    finally:
        try:
            if tmp_p.exists():
                tmp_p.unlink()
        except OSError:
            pass


def _reason(e: OSError) -> str:
    return e.strerror or type(e).__name__


def check_writable(folder: str | Path) -> None:
    """Fail now (not after an epoch of training) when files cannot be created in ``folder``."""
    d = Path(folder)
    try:
        d.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".xnn-write-check.", dir=d)
        os.close(fd)
        os.unlink(tmp)
    except OSError as e:
        raise OutputError(f"{d}: cannot write into this folder ({_reason(e)})") from None


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, obj) -> None:
    """Strict JSON (non-finite floats written as null, so every reader can parse it)."""
    from .limits import dumps_json

    write_text(path, dumps_json(obj) + "\n")

