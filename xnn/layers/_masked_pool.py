"""MaskedGlobalAvgPool1D / MaskedGlobalMaxPool1D: pooling over time that skips padded steps.

Shapes: ``x (T, F)`` and mask ``(T,)`` (1 = valid) -> ``(F,)``. No parameters.
Average: ``sum_t m_t x_t / max(sum_t m_t, 1)``; max: the max over valid steps. A sample with no
valid step gives zeros. (Unmasked pooling over time is ``GlobalAvgPool1D``.)
"""
from __future__ import annotations

from typing import ClassVar

import numpy as np

from ..spec.layer import Case, Layer, ShapeError


class _MaskedPool(Layer):
    arity = (2, 2)
    op: ClassVar[str] = "avg"
    doc_shapes = "x (T, F), mask (T,) -> (F,)"

    def mask_index(self, in_shapes: list) -> int | None:
        return 1

    def infer(self, in_shapes):
        x, m = in_shapes
        if len(x) != 2:
            raise ShapeError(f"{self.kind} needs a (time, features) sequence per sample", "inputs")
        if tuple(m) != (x[0],):
            raise ShapeError(f"the mask must have shape ({x[0]},), one value per time step", "inputs")
        return (x[1],)

    def forward(self, p, xs, training=False):
        x, m = xs
        m = m[:, :, None]
        if self.op == "avg":
            return (x * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
        valid = m > 0.5
        y = np.where(valid, x, -np.inf).max(axis=1)
        return np.where(valid.any(axis=1), y, 0.0)

    @staticmethod
    def case_graph(case: Case, fields: dict) -> tuple[dict, list[dict]]:
        """Padded input -> SequenceMask; Dense makes padded steps nonzero so they would count."""
        t, f = case.in_shapes[0]
        return {"shape": [t, 3]}, [{"type": "SequenceMask", "name": "mask", "inputs": ["input"]},
                                   {"type": "Dense", "units": f, "name": "pre0", "inputs": ["input"]},
                                   {**fields, "inputs": ["pre0", "mask"]}]
