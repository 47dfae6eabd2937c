"""The ``xnn`` command. Each verb is a module ``xnn/cli/cmd_<verb>.py`` defining
``VERB`` (its name), ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``.

Errors from xnn (``XnnError``) print one line per problem, no traceback, and exit with the
error's code (2 for bad input). Frameworks are imported only inside verbs that run models.
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys


def _verbs():
    pkg = importlib.import_module("xnn.cli")
    mods = []
    for m in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
        if m.name.startswith("cmd_"):
            mods.append(importlib.import_module(f"xnn.cli.{m.name}"))
    return {mod.VERB: mod for mod in mods}


def build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    p = argparse.ArgumentParser(prog="xnn", description="One spec, native PyTorch and Keras models, ONNX and MATLAB export, parity checked.")
    p.add_argument("--version", action="version", version=f"xnn {__version__}")
    sub = p.add_subparsers(dest="verb", metavar="VERB")
    for name, mod in _verbs().items():
        sp = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(sp)
        sp.set_defaults(_run=mod.run)
    return p


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings as one ``warning:`` line each (no source lines), like errors."""
    for ln in str(message).splitlines() or [""]:
        print(f"warning: {ln}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    import os
    import warnings

    from ..errors import XnnError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    old_show = warnings.showwarning
    warnings.showwarning = _show_warning
    try:
        return int(args._run(args) or 0)
    except XnnError as e:
        for line in str(e).splitlines():
            print(f"error: {line}", file=sys.stderr)
        return e.exit_code
    except BrokenPipeError:  # `xnn info X | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (OSError, MemoryError, RecursionError) as e:
        if os.environ.get("XNN_DEBUG"):
            raise
        # the environment refused (disk, permissions, memory): one line, not a traceback
        where = f"{e.filename}: " if isinstance(e, OSError) and e.filename else ""
        what = e.strerror if isinstance(e, OSError) and e.strerror else (str(e).splitlines()[0] if str(e) else "")
        print(f"error: {where}{type(e).__name__}: {what} (XNN_DEBUG=1 shows the traceback)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.showwarning = old_show


if __name__ == "__main__":
    sys.exit(main())
