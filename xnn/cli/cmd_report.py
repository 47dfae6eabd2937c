"""``xnn report RUN [RUN ...] --out report.html``: one self-contained HTML report (or Markdown
with ``--format md`` / an ``.md`` path) on one or more run folders: training curves overlaid,
layer summary, verdicts, test-split evaluation, gradient norms, activation statistics."""
from __future__ import annotations

import argparse
from pathlib import Path

from ._common import BACKENDS, check_device, check_output_file, protected_files

VERB = "report"
HELP = "write an HTML or Markdown report on run folders (curves, summary, evaluation, diagnostics)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("runs", nargs="+", metavar="RUN", help="run folders written by xnn train")
    p.add_argument("--out", required=True, help="report file to write (.html, or .md for Markdown)")
    p.add_argument("--format", choices=("html", "md"), help="default: from --out's suffix (.md: md, else html)")
    p.add_argument("--backend", choices=(*BACKENDS, "reference"),
                   help="recompute test outputs with this backend (default: each run's own)")
    p.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N for the evaluation")
    p.add_argument("--batch", type=int, default=128, metavar="N",
                   help="test samples for the activation statistics (default 128)")
    p.add_argument("--no-eval", action="store_true", help="skip the test-split evaluation (no framework import)")
    p.add_argument("--force", action="store_true", help="replace an existing report")


def run(args: argparse.Namespace) -> int:
    from ..errors import OutputError

    out = Path(args.out)
    fmt = args.format or ("md" if out.suffix.lower() in (".md", ".markdown") else "html")
    if args.batch < 1:
        raise OutputError(f"--batch {args.batch}: must be at least 1")
    runs = [Path(r) for r in args.runs]
    protected = [x for r in runs for x in protected_files(r)]
    check_output_file(out, force=args.force, protected=protected)
    if fmt == "md":
        files = out.parent / f"{out.stem}_files"
        for r in runs:
            check_output_file(files / "x.png", force=True, protected=protected_files(r), flag="--out (its pictures)")
        if files.exists() and not files.is_dir():
            raise OutputError(f"{files}: --out's picture folder exists and is not a folder")
        if files.exists() and not args.force:
            raise OutputError(f"{files}: exists (the pictures of a Markdown report); use --force to replace it")
    if args.backend and args.backend != "reference" and not args.no_eval:
        check_device(args.backend, args.device)
    from ..report import build_report, write_report

    rep = build_report(runs, backend=args.backend, device=args.device, batch=args.batch, evaluate=not args.no_eval)
    written = write_report(rep, out, fmt)
    extra = f" (+ {len(written) - 1} picture(s) in {written[1].parent})" if len(written) > 1 else ""
    print(f"report written to {out}{extra}")
    return 0
