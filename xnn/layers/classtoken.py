"""ClassToken: a learned vector prepended to a sequence, ViT's ``[class]`` token.

Shapes: ``(T, D)`` -> ``(T + 1, D)``; ``y[0] = token``, ``y[1 + t] = x[t]``.
Canonical param: ``token (D,)``, group ``embedding``, init **zeros** (torchvision's
``VisionTransformer.class_token = nn.Parameter(torch.zeros(1, 1, D))``; timm draws N(0, 1e-6²)
instead, and no framework has a class-token layer with a default of its own). No fields.
"""
from __future__ import annotations

from typing import Literal

import numpy as np

from ..spec.layer import Case, Layer, Param, ShapeError
from ..spec.registry import register


@register
class ClassToken(Layer):
    kind = "ClassToken"
    type: Literal["ClassToken"] = "ClassToken"
    doc_shapes = "(T, D) -> (T + 1, D)"
    shape_fields = ()

    def infer(self, in_shapes):
        (s,) = in_shapes
        if len(s) != 2:
            raise ShapeError(f"ClassToken needs a (tokens, features) sequence per sample (received rank {len(s)})",
                             "inputs")
        return (s[0] + 1, s[1])

    def fallback_shape(self, in_shapes):
        s = in_shapes[0] if len(in_shapes) == 1 else ()
        return (s[0] + 1, s[1]) if len(s) == 2 else None

    def params(self, in_shapes):
        return {"token": Param((in_shapes[0][-1],), "zeros", group="embedding")}

    def forward(self, p, xs, training=False):
        x = xs[0]
        n, _, d = x.shape
        tok = np.broadcast_to(np.asarray(p["token"], dtype=x.dtype).reshape(1, 1, d), (n, 1, d))
        return np.concatenate([tok, x], axis=1)

    @classmethod
    def cases(cls):
        return [Case({}, [(5, 4)], "seq"),
                Case({}, [(1, 3)], "one_token")]
