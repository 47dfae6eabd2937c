"""Embedding tables: xnn's (num, dim) -> MATLAB's ``Weights`` (dim x num)."""
from __future__ import annotations

from ..layouts import Arrays, Context, MatLayout


class TableLayout(MatLayout):
    def to_mat(self, node, p: Arrays, ctx: Context) -> Arrays:
        return {"Weights": p["weight"].T} if "weight" in p else {}

    def from_mat(self, node, m: Arrays, ctx: Context) -> Arrays:
        return {"weight": m["Weights"].T} if "Weights" in m else {}
