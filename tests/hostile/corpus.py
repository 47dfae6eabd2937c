"""The hostile-input corpus: every case is a small file made by code (nothing large on disk)
and the ``xnn`` command a user would run on it. Each area has its module ``gen_<area>.py``
defining ``CASES``; ``test_corpus.py`` runs every case through the CLI and checks the promises
of docs/security.md; ``python -m tests.hostile.make_corpus DIR`` writes every file for
inspection or for feeding other tools.

A case's ``make(ctx)`` writes its file(s) under ``ctx.dir`` and returns the hostile path;
``argv(ctx, path)`` is the command line after ``xnn``. ``ctx.run`` is a copy of a small trained
run folder (torch, 1 epoch), ``ctx.spec`` a small valid spec file. ``outputs(ctx)`` lists the
files the command may create (nothing else may change in ``ctx.dir``).
"""
from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Callable


@dataclass
class Ctx:
    dir: Path  # the case's own folder (watched)
    run: Path  # a copy of a small trained run (inside dir)
    spec: Path  # a small valid spec file (inside dir)


@dataclass
class Case:
    name: str
    make: Callable[[Ctx], Path]
    argv: Callable[[Ctx, Path], list]
    field: str | None = None  # a substring the first error line must hold (besides the file name)
    names_file: bool = True  # the first error line names the hostile file
    code: int = 2
    outputs: Callable[[Ctx], list] = dc_field(default=lambda ctx: [])
    needs_run: bool = False  # uses ctx.run (a trained run); cases without it are cheaper


def all_cases() -> list[Case]:
    """Every ``CASES`` of every ``gen_*`` module beside this file, in module order."""
    pkg = Path(__file__).parent
    out: list[Case] = []
    for m in sorted(pkgutil.iter_modules([str(pkg)]), key=lambda m: m.name):
        if m.name.startswith("gen_"):
            out.extend(importlib.import_module(f"tests.hostile.{m.name}").CASES)
    names = [c.name for c in out]
    dup = {n for n in names if names.count(n) > 1}
    assert not dup, f"duplicate corpus case names: {sorted(dup)}"
    return out


TINY_SPEC = """xnn: 1
name: tiny
input: {shape: [4]}
model:
  - {type: Dense, name: hidden, units: 8}
  - {type: relu, name: act}
  - {type: Dense, name: logits, units: 3}
train: {epochs: 1, batch_size: 16, seed: 0, loss: cross_entropy, optimizer: {type: adam, lr: 0.01}}
data: {source: iris, x: standardize, split: {val: 0.2, test: 0.2}}
"""
