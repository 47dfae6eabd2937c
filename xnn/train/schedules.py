"""Learning-rate schedules, stepped per optimizer step (docs/semantics.md, "Schedules").

``t`` counts optimizer steps already taken (the first step uses ``t = 0``). With ``W`` warmup
steps and base rate ``lr0`` (``train.optimizer.lr``)::

    t <  W:  lr = lr0 · (t + 1) / (W + 1)           linear from 0, never exactly 0
    t >= W:  lr = main(s), s = t − W                the main schedule starts after warmup

    constant:     main(s) = lr0
    step:         main(s) = lr0 · gamma^floor(s / step_size)
    exponential:  main(s) = lr0 · gamma^(s / decay_steps)
    cosine:       main(s) = min_lr + (lr0 − min_lr) · ½(1 + cos(π · min(s, D) / D)),
                  D = max(T − W, 1), T = total_steps (default epochs × steps_per_epoch);
                  clamped at min_lr after T.
"""
from __future__ import annotations

import math


def lr_at(train, step: int, steps_per_epoch: int) -> float:
    """Learning rate of optimizer step ``step`` (0-based) for a ``TrainSpec``."""
    sched = train.schedule
    lr0 = float(train.optimizer.lr)
    w = int(sched.warmup_steps)
    t = int(step)
    if t < w:
        return lr0 * (t + 1) / (w + 1)
    s = t - w
    kind = sched.type
    if kind == "constant":
        return lr0
    if kind == "step":
        return lr0 * float(sched.gamma) ** (s // int(sched.step_size))
    if kind == "exponential":
        return lr0 * float(sched.gamma) ** (s / int(sched.decay_steps))
    if kind == "cosine":
        total = sched.total_steps if sched.total_steps is not None else train.epochs * max(int(steps_per_epoch), 1)
        d = max(int(total) - w, 1)
        lo = float(sched.min_lr)
        return lo + (lr0 - lo) * 0.5 * (1.0 + math.cos(math.pi * min(s, d) / d))
    raise ValueError(f"unknown schedule {kind!r}")


def lr_array(train, n_steps: int, steps_per_epoch: int) -> list[float]:
    """The learning rates of steps ``0 .. n_steps-1``."""
    return [lr_at(train, t, steps_per_epoch) for t in range(n_steps)]
