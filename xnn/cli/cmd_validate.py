"""``xnn validate SPEC``: check a spec (every error at once) without importing a framework."""
from __future__ import annotations

import argparse

from ._common import add_set, load_spec_cli, require_data, summary_line

VERB = "validate"
HELP = "check a spec: prints 'valid' and a summary, or every error (exit 2)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="spec file (.yaml/.json) or run folder")
    add_set(p)
    p.add_argument("--data", action="store_true", help="also load the data source and check it against the spec")


def run(args: argparse.Namespace) -> int:
    spec = load_spec_cli(args.spec, args.overrides)
    require_data(spec, "xnn validate")
    print(f"valid: {args.spec}")
    print(summary_line(spec))
    if args.data:
        from ..data import load

        print(load(spec).summary())
    return 0
