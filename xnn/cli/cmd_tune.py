"""``xnn tune SPEC --trials N --backend B [--jobs J] [--study sqlite:///FILE] [--out DIR]``: an Optuna
study over the spec's ``search`` section (docs/tuning.md): seeded TPE (or random) sampling,
median or Hyperband pruning on the per-epoch value of ``search.metric``, every trial a run folder
``DIR/trial_NNNN/``, ``DIR/best.yaml`` (the best trial's spec, ready for ``xnn train``), plots
``DIR/history.png`` and ``DIR/importance.png``, and a table of the trials. The study is stored
(default ``DIR/study.db``): the same command again continues it up to ``--trials``."""
from __future__ import annotations

import argparse

from ._common import BACKENDS, add_set

VERB = "tune"
HELP = "search a spec's hyperparameters (its search section) with Optuna; each trial is a run folder"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="spec file (.yaml/.json) with a search section")
    p.add_argument("--trials", type=int, metavar="N",
                   help="the study's total number of trials (default search.trials); a continued study runs the rest")
    p.add_argument("--backend", choices=BACKENDS, default="torch", help="framework every trial trains with (default torch)")
    p.add_argument("--jobs", type=int, default=1, metavar="J",
                   help="trials at once, each in its own process sharing the study's storage (default 1)")
    p.add_argument("--study", metavar="URL",
                   help="Optuna RDB storage, e.g. sqlite:///study.db (a plain path is a SQLite file); default DIR/study.db")
    p.add_argument("--study-name", metavar="NAME", help="study name in the storage (default xnn-<spec name>)")
    p.add_argument("--out", metavar="DIR", help="folder of the trials, best.yaml and plots (default tune-<spec name>)")
    p.add_argument("--quiet", action="store_true", help="no per-trial lines (the table is still printed)")
    add_set(p)


def run(args: argparse.Namespace) -> int:
    from ..errors import SpecError
    from ..tune.study import tune

    for flag, v in (("--trials", args.trials), ("--jobs", args.jobs)):
        if v is not None and v < 1:
            raise SpecError(f"{flag}: must be >= 1 (received {v})")
    res = tune(args.spec, backend=args.backend, trials=args.trials, jobs=args.jobs, study=args.study,
               study_name=args.study_name, out=args.out, overrides=args.overrides or None, quiet=args.quiet)
    return 0 if res.rows else 1
