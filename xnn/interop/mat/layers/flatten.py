"""Flatten: no weights; the note says whether it was written column-major (MATLAB's
flattenLayer order, see ``layouts.build_context``) or keeps xnn's row-major order."""
from __future__ import annotations

from ..layouts import Context, MatLayout


class FlattenM(MatLayout):
    kind = "Flatten"
    flattens = True

    def notes(self, node, ctx: Context) -> dict:
        return {"order": ctx.flatten_order[node.name]}
