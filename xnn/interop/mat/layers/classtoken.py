"""ClassToken: ``Weights`` = the token as a D x 1 column (the layout of the learned vector of
MATLAB's embeddingConcatenationLayer, unconfirmed: xnn.toDlnetwork does not build that layer)."""
from __future__ import annotations

from ..layouts import Arrays, Context, MatLayout


class ClassTokenM(MatLayout):
    kind = "ClassToken"

    def to_mat(self, node, p: Arrays, ctx: Context) -> Arrays:
        return {"Weights": p["token"].reshape(-1, 1)}

    def from_mat(self, node, m: Arrays, ctx: Context) -> Arrays:
        return {"token": m["Weights"].reshape(-1)}
