"""Hyperparameter search over a spec's ``search`` section (``xnn tune``, docs/tuning.md).

:mod:`xnn.tune.space` checks the section and never imports optuna; :mod:`xnn.tune.study` runs
the study on Optuna (imported only there).
"""
from __future__ import annotations


def tune(*args, **kwargs):
    """:func:`xnn.tune.study.tune` (imports optuna)."""
    from .study import tune as _tune

    return _tune(*args, **kwargs)
