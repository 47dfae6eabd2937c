"""Workers die with their launcher, even when the launcher is killed with SIGKILL.

The launcher's own clean-up (``launch.stop_all``: SIGTERM, then SIGKILL, on failure, timeout,
Ctrl-C or SIGTERM) cannot run after ``kill -9``; without more, every worker would go on training
and writing checkpoints as an orphan. Two mechanisms cover that, framework-neutral:

- **a lifeline pipe.** :class:`Lifeline` (launcher side) makes a pipe; every worker inherits only
  the read end (``pass_fds``), the write end stays in the launcher and is never written. When the
  launcher dies, however it dies, the kernel closes the write end and the worker's read returns
  EOF: a daemon thread (:func:`watch_launcher`) then SIGKILLs the worker's process group. Portable
  (any POSIX), and covers the race where the launcher died before the worker got this far (the
  first read is already at EOF).
- **PR_SET_PDEATHSIG** (Linux): the worker asks the kernel for SIGKILL when its parent dies, so
  even a worker stuck in native code holding the GIL dies at once. It fires when the parent
  *thread* that started the worker exits, so the launcher asks for it only when it starts the
  workers from its main thread. Right after ``prctl`` the worker checks that its parent is still
  the launcher (``getppid`` against the pid in the environment): if the launcher died before
  ``prctl``, no signal would ever come.

The launcher hands this over in one environment variable, ``XNN_LAUNCHER=<pid>:<fd>:<inode>:<flags>``.
A worker acts on it only when ``<fd>`` really is that pipe (same inode): a process started by
something in between (``torchrun``'s agent under xnn's launcher, which closes inherited fds) has no
such fd and is left to its own parent; the variable is removed from the worker's environment, so
nothing the worker starts sees it. Without the variable (torchrun, a ``TF_CONFIG`` launcher, a
shell) nothing changes.

Never imports torch or tensorflow.
"""
from __future__ import annotations

import os
import signal
import stat
import sys
import threading

ENV = "XNN_LAUNCHER"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Lifeline:
    """Launcher side: one pipe for the workers of one launch. Keep it open while they should live."""

    def __init__(self, pdeathsig: bool | None = None):
        self.r, self.w = os.pipe()  # both non-inheritable: a worker gets ``r`` through pass_fds only
        if pdeathsig is None:
            pdeathsig = threading.current_thread() is threading.main_thread()
        self.pdeathsig = pdeathsig and sys.platform.startswith("linux")

    @property
    def pass_fds(self) -> tuple[int, ...]:
        return (self.r,)

    def env(self) -> dict[str, str]:
        flags = "pdeathsig" if self.pdeathsig else "-"
        return {ENV: f"{os.getpid()}:{self.r}:{os.fstat(self.r).st_ino}:{flags}"}

    def close(self) -> None:
        """Closing the write end is what makes workers that are still running stop."""
        for fd in (self.r, self.w):
            try:
                os.close(fd)
            except OSError:
                pass
        self.r = self.w = -1

    def __enter__(self) -> Lifeline:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _parse(raw: str) -> tuple[int, int, int, bool] | None:
    parts = raw.split(":")
    if len(parts) != 4:
        return None
    try:
        pid, fd, ino = int(parts[0]), int(parts[1]), int(parts[2])
    except ValueError:
        return None
    return pid, fd, ino, parts[3] == "pdeathsig"


def _is_lifeline(fd: int, ino: int) -> bool:
    try:
        st = os.fstat(fd)
    except OSError:
        return False
    return stat.S_ISFIFO(st.st_mode) and st.st_ino == ino


def _die(why: str) -> None:
    """SIGKILL this worker and what it started in its process group (it leads one when the
    launcher started it); no clean-up, no checkpoint: the job is over."""
    try:
        os.write(2, f"stopped: pid {os.getpid()}: {why}\n".encode())
    except OSError:
        pass
    if os.getpgrp() == os.getpid():
        os.killpg(os.getpid(), signal.SIGKILL)
    os.kill(os.getpid(), signal.SIGKILL)


def set_pdeathsig(sig: int = signal.SIGKILL) -> bool:
    """Linux ``prctl(PR_SET_PDEATHSIG, sig)``; False where unavailable."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_pipe(fd: int) -> None:
    while True:
        try:
            data = os.read(fd, 1)
        except InterruptedError:
            continue
        except OSError:
            return  # the fd was closed under us: leave it to the other mechanisms
        if not data:
            _die("the launcher is gone")
            return


def watch_launcher(environ=None) -> str:
    """Worker side, as early as possible: bind this process's life to the launcher named in
    ``XNN_LAUNCHER`` (see the module docstring). Returns what it set up: ``"off"`` (no launcher of
    xnn's, or not started by it directly), ``"pipe"`` or ``"pipe+pdeathsig"``. Does not return
    when the launcher is already gone."""
    environ = os.environ if environ is None else environ
    raw = environ.pop(ENV, None)
    got = _parse(raw) if raw else None
    if got is None:
        return "off"
    pid, fd, ino, want_pdeathsig = got
    if not _is_lifeline(fd, ino):
        return "off"  # started through something else (torchrun's agent): that parent owns us
    os.set_inheritable(fd, False)  # nothing this worker starts holds the lifeline
    how = "pipe"
    if want_pdeathsig and os.getppid() == pid and set_pdeathsig(signal.SIGKILL):
        how = "pipe+pdeathsig"
        if os.getppid() != pid:  # the launcher died before prctl: no signal will come
            _die("the launcher died before this worker started")
    threading.Thread(target=_watch_pipe, args=(fd,), name="xnn-launcher-watch", daemon=True).start()
    return how
