"""``xnn info SPEC``: a table of the graph's nodes and parameter totals (no framework)."""
from __future__ import annotations

import argparse
import math

from ._common import add_set, load_spec_cli

VERB = "info"
HELP = "show a spec's nodes (name, type, inputs, output shape, parameters, MACs) and totals"
RICH_ROWS = 2000  # above this, a plain fixed-width table: rich measures every cell (slow on huge graphs)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="spec file (.yaml/.json) or run folder")
    add_set(p)


def _human(n: int) -> str:
    for unit, div in (("G", 10**9), ("M", 10**6), ("K", 10**3)):
        if n >= div:
            return f"{n / div:.2f}{unit}"
    return str(n)


def _rows(spec) -> tuple[list[tuple[str, ...]], int, int, int]:
    """One row per node; the total and trainable parameter counts and the MACs per sample (one
    pass, Python ints)."""
    frozen = set(spec.train.frozen)
    rows, total, trainable, macs = [], 0, 0, 0
    for n in spec.nodes:
        m = int(n.layer.macs(list(n.in_shapes), tuple(n.out_shape)))
        macs += m
        count = sum(math.prod(p.shape) for p in n.params.values())
        is_frozen = not n.layer.trainable or n.name in frozen
        total += count
        if not is_frozen:
            trainable += sum(math.prod(p.shape) for p in n.params.values() if p.trainable)
        rows.append((n.name, n.kind, ", ".join(n.inputs), str(list(n.out_shape)),
                     f"{count:,}" + (" (frozen)" if is_frozen else ""), _human(m) if m else "-"))
    return rows, total, trainable, macs


def _plain_table(title: str, head: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]

    def line(cells):
        return "  ".join(c.rjust(w) if i >= len(head) - 2 else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return "\n".join([title, line(head), "  ".join("-" * w for w in widths), *map(line, rows)])


def run(args: argparse.Namespace) -> int:
    spec = load_spec_cli(args.spec, args.overrides)
    rows, total, trainable, macs = _rows(spec)
    title = f"{spec.name}  (input {list(spec.input_shape)} {spec.input.dtype})"
    head = ("name", "type", "inputs", "output shape", "params", "MACs")
    footer = [f"total parameters: {total:,}   trainable: {trainable:,}   non-trainable: {total - trainable:,}",
              f"MACs per sample: {macs:,} ({_human(macs)}; FLOPs ~ 2 x MACs)",
              f"loss {spec.train.loss.type}, optimizer {spec.train.optimizer.type} (lr {spec.train.optimizer.lr}), "
              f"batch {spec.train.batch_size}, {spec.train.epochs} epochs, data {spec.data.source}"]
    if len(rows) > RICH_ROWS:
        print(_plain_table(title, head, rows))
        print("\n".join(footer))
        return 0
    from rich.console import Console
    from rich.table import Table

    t = Table(title=title)
    for col in head:
        t.add_column(col, justify="right" if col in ("params", "MACs") else "left")
    for r in rows:
        t.add_row(*r)
    console = Console()
    need = sum(max(len(h), *(len(r[i]) for r in rows)) + 3 for i, h in enumerate(head)) + 1
    if not console.is_terminal and console.width < need:  # a pipe or file: never wrap cells
        console = Console(width=need)
    console.print(t)
    for f in footer:
        console.print(f)
    return 0
