"""Staleness, defined once for both backends.

A parameter server keeps a version counter ``v`` that it increments on every update it applies.
A worker pulls weights at version ``v_pull``, computes a gradient, and pushes it; when the server
receives it, its version is ``v_push``. The gradient's **staleness** is ``v_push - v_pull``: the
number of updates the server applied (from other workers) between the pull and the push.
Synchronous SGD has staleness 0 by construction.

With ``max_staleness = s`` the torch server applies a gradient only when its staleness is <= s;
a staler one is rejected and the worker recomputes on fresh weights (so the bound is exact).
TensorFlow's ParameterServerStrategy cannot refuse an update, so there the coordinator bounds the
closures in flight (windows of ``s + 1`` closures, each window awaited) and reports the staleness
observed from the same version counter kept on a parameter server.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class StalenessLog:
    """What a parameter server observed: staleness of each applied update, rejections."""

    bound: int
    exact_bound: bool = True  # False where the engine cannot refuse updates (TF PS strategy)
    applied: list[int] = field(default_factory=list)
    rejected: int = 0

    def accept(self, pulled: int, current: int) -> bool:
        """Record a push of a gradient computed at version ``pulled`` arriving at ``current``.

        Returns whether the server should apply it (always True when the bound is not exact).
        """
        s = current - pulled
        if self.exact_bound and s > self.bound:
            self.rejected += 1
            return False
        self.applied.append(int(s))
        return True

    def summary(self) -> dict:
        """JSON-ready report: updates, max/mean staleness, histogram, rejections, the bound."""
        hist: dict[str, int] = {}
        for s in self.applied:
            hist[str(s)] = hist.get(str(s), 0) + 1
        n = len(self.applied)
        return {
            "updates": n,
            "max_staleness_observed": max(self.applied) if n else 0,
            "mean_staleness": (sum(self.applied) / n) if n else 0.0,
            "histogram": dict(sorted(hist.items(), key=lambda kv: int(kv[0]))),
            "rejected": self.rejected,
            "bound": self.bound,
            "bound_enforced": "exact (stale gradients rejected)" if self.exact_bound
            else "windows of bound + 1 closures in flight (engine cannot refuse updates)",
        }
