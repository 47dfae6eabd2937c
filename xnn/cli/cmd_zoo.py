"""``xnn zoo``: list the ready model specs; ``xnn zoo NAME --out FILE`` writes one to start from."""
from __future__ import annotations

import argparse
import math
from pathlib import Path

from ..errors import SpecError

VERB = "zoo"
HELP = "list the model zoo (parameters, MACs, input), or write one model's spec with --out"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("name", nargs="?", help="a zoo model (see the list); with --out, write its spec")
    p.add_argument("--out", help="write the model's spec (YAML, with its comments) to this file")
    p.add_argument("--force", action="store_true", help="replace an existing --out file")


def _totals(path: Path) -> tuple[str, int, int]:
    from ..spec import load_spec

    spec = load_spec(path)
    params = sum(math.prod(p.shape) for n in spec.nodes for p in n.params.values())
    macs = sum(int(n.layer.macs(list(n.in_shapes), tuple(n.out_shape))) for n in spec.nodes)
    return "x".join(map(str, spec.input_shape)), params, macs


def _human(n: int) -> str:
    for unit, div in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= div:
            return f"{n / div:.2f}{unit}"
    return str(n)


def run(args: argparse.Namespace) -> int:
    from .. import zoo
    from ..fileio import atomic_path
    from ._common import check_output_file

    if args.name is None:
        if args.out:
            raise SpecError("zoo --out: name the model to write (xnn zoo NAME --out FILE)")
        rows = []
        for e in zoo.entries():
            shape, params, macs = _totals(e.path)
            rows.append((e.name, shape, f"{params:,}", _human(macs), e.summary))
        head = ("name", "input", "params", "MACs", "what")
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
        for r in [head, tuple("-" * w for w in widths), *rows]:
            print("  ".join(c.rjust(w) if i in (2, 3) else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip())
        print("\nxnn zoo NAME --out NAME.yaml writes a spec to start from; docs/zoo.md has the details.")
        return 0
    try:
        e = zoo.get(args.name)
    except KeyError as err:
        raise SpecError(f"zoo: {err.args[0]}") from None
    if not args.out:
        shape, params, macs = _totals(e.path)
        print(f"{e.name}: {e.summary}")
        if e.notes:
            print(f"  {e.notes}")
        print(f"  input {shape}, {params:,} parameters, {_human(macs)} MACs per sample")
        print(f"  xnn zoo {e.name} --out {e.name}.yaml   # then: xnn train {e.name}.yaml --out runs/{e.name}")
        return 0
    out = Path(args.out)
    check_output_file(out, args.force)
    with atomic_path(out) as tmp:
        tmp.write_bytes(e.path.read_bytes())
    print(f"wrote {out} (zoo model {e.name}); next: xnn train {out} --out runs/{e.name}")
    return 0
