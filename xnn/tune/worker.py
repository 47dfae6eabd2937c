"""One ``xnn tune --jobs J`` worker process: ``python -m xnn.tune.worker CONTEXT.json N INDEX``
runs N trials of the study named in the context (the parent's storage holds the study)."""
from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    from ..errors import XnnError
    from ..parallel.lifetime import watch_launcher
    from .study import Context, optimize

    watch_launcher()  # die with the parent, however it dies
    path, n, index = argv[0], int(argv[1]), int(argv[2])
    with open(path) as f:
        ctx = Context(**json.load(f))
    try:
        optimize(ctx, n, worker=index)
    except XnnError as e:
        for line in str(e).splitlines():
            print(f"error: worker {index}: {line}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
