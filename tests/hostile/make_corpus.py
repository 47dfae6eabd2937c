"""``python -m tests.hostile.make_corpus DIR``: write every hostile corpus file under DIR (one
folder per case) and print what each one is for."""
from __future__ import annotations

import sys
from pathlib import Path

from tests.hostile.corpus import TINY_SPEC, Ctx, all_cases


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    root = Path(argv[0])
    for case in all_cases():
        d = root / case.name
        d.mkdir(parents=True, exist_ok=True)
        (d / "tiny.yaml").write_text(TINY_SPEC)
        if case.needs_run:
            print(f"{case.name}: needs a trained run at {d / 'run'} (xnn train {d / 'tiny.yaml'} --out {d / 'run'})")
        path = case.make(Ctx(d, d / "run", d / "tiny.yaml"))
        print(f"{case.name}: {path}  ->  xnn {' '.join(map(str, case.argv(Ctx(d, d / 'run', d / 'tiny.yaml'), path)))}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
