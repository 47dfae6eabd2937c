"""``xnn info SPEC``: a table of the graph's nodes and parameter totals (no framework)."""
from __future__ import annotations

import argparse

import numpy as np

from ._common import add_set, load_spec_cli

VERB = "info"
HELP = "show a spec's nodes (name, type, inputs, output shape, parameters) and totals"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="spec file (.yaml/.json) or run folder")
    add_set(p)


def run(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    spec = load_spec_cli(args.spec, args.overrides)
    t = Table(title=f"{spec.name}  (input {list(spec.input_shape)} {spec.input.dtype})")
    for col, just in (("name", "left"), ("type", "left"), ("inputs", "left"), ("output shape", "left"), ("params", "right")):
        t.add_column(col, justify=just)
    for n in spec.nodes:
        count = int(sum(np.prod(p.shape) for p in n.params.values()))
        frozen = "" if n.layer.trainable and n.name not in spec.train.frozen else " (frozen)"
        t.add_row(n.name, n.kind, ", ".join(n.inputs), str(list(n.out_shape)), f"{count:,}{frozen}")
    total = spec.n_params()
    trainable = int(sum(np.prod(p.shape) for k, p in spec.param_shapes().items()
                        if p.trainable and k.split(".")[0] not in spec.train.frozen
                        and spec.node_map[k.split(".")[0]].layer.trainable))
    console = Console()
    console.print(t)
    console.print(f"total parameters: {total:,}   trainable: {trainable:,}   non-trainable: {total - trainable:,}")
    console.print(f"loss {spec.train.loss.type}, optimizer {spec.train.optimizer.type} (lr {spec.train.optimizer.lr}), "
                  f"batch {spec.train.batch_size}, {spec.train.epochs} epochs, data {spec.data.source}")
    return 0
