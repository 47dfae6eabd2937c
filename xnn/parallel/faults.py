"""Fault injection for tests (never set in production): ``XNN_FAULT=<kind>@<step>[:<rank>]`` makes
the worker of that rank (default 1) ``fail`` (raise), ``hang`` (sleep forever) or ``kill``
(SIGKILL itself; first torchrun attempt only) once it reaches that step. Nothing reads this
variable except :func:`hook_from_env`, so the production command line has no such options."""
from __future__ import annotations

import os
import signal
import time
from typing import Callable

KINDS = ("fail", "hang", "kill")


def parse(value: str) -> tuple[str, int, int]:
    """``"fail@11:1"`` -> ``("fail", 11, 1)``; ValueError on anything else."""
    kind, _, rest = value.partition("@")
    step, _, rank = rest.partition(":")
    if kind not in KINDS or not step.isdigit() or (rank and not rank.isdigit()):
        raise ValueError(f"XNN_FAULT={value!r}: expected <{'|'.join(KINDS)}>@<step>[:<rank>]")
    return kind, int(step), int(rank) if rank else 1


def hook_from_env(rank: int) -> Callable[[int], None] | None:
    """A per-step callback injecting ``XNN_FAULT`` on this rank, or None when it is unset."""
    value = os.environ.get("XNN_FAULT")
    if not value:
        return None
    kind, at, target = parse(value)
    if rank != target:
        return None
    first_attempt = int(os.environ.get("TORCHELASTIC_RESTART_COUNT", "0")) == 0

    def hook(step: int) -> None:
        if step != at:
            return
        if kind == "kill" and first_attempt:
            os.kill(os.getpid(), signal.SIGKILL)
        if kind == "fail":
            raise RuntimeError(f"injected failure at step {step}")
        if kind == "hang":
            while True:
                time.sleep(1)

    return hook
