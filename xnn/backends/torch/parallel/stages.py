"""Pipeline stages cut out of a compiled :class:`XnnModule`.

A stage runs a contiguous run of the graph's nodes. It shares the full model's layer modules, so
parameter names stay ``layers.<node>.<param>`` and canonical weights map one to one. The single
tensor crossing a stage boundary keeps the layout the full model gives it internally
(channels-first between ``cf`` layers), so a split model computes exactly what the unsplit does.
"""
from __future__ import annotations

import torch
from torch import nn

from ..build import XnnModule, run_plan, to_cl


class StageModule(nn.Module):
    """Nodes ``names`` of ``full``; ``forward(x)`` takes the tensor entering the stage and returns
    the tensor leaving it (the model output, channels-last, for the last stage)."""

    def __init__(self, full: XnnModule, names: list[str], entry: str, is_last: bool):
        super().__init__()
        keep = set(names)
        self.layers = nn.ModuleDict({n: full.layers[n] for n in names})
        self._plan = [(n, ins) for n, ins in full._plan if n in keep]
        self._entry = entry
        self._exit = names[-1]
        self._is_last = is_last
        self._out_layout = full._out_layout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        acts = run_plan(self.layers._modules, self._plan, {self._entry: x})
        out = acts[self._exit]
        if self._is_last and self._out_layout == "cf":
            out = to_cl(out)
        return out.contiguous()  # p2p sends need contiguous buffers (layout permutes are views)


def split(full: XnnModule, spec, stages: list[list[str]]) -> list[StageModule]:
    """One StageModule per stage (see :func:`xnn.parallel.plan.stage_boundaries`)."""
    from ....parallel.plan import stage_boundaries

    entries = stage_boundaries(spec, stages)
    return [StageModule(full, names, entries[i], i == len(stages) - 1) for i, names in enumerate(stages)]
