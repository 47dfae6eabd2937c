"""PatchEmbedding: a composite, ViT's patch projection: image -> a sequence of patch tokens.

Shapes: ``(H, W, C)`` -> ``(H/ph · W/pw, dim)``; ``patch_size`` (int or ``[ph, pw]``) must divide
``H`` and ``W`` (torchvision's ViT asserts the same; nothing is cropped silently).
Parts: ``<node>_proj`` = Conv2D(``dim``, kernel = stride = patch, valid, ``use_bias``), then a
Reshape named ``<node>`` to ``(H/ph · W/pw, dim)``. Tokens are in row-major patch order (patch
row, then column), as torch's ``conv(x).flatten(2).transpose(1, 2)`` and Keras's ``Reshape`` give.
The parameters are the Conv2D's: ``<node>_proj.weight (dim, C, ph, pw)``, ``<node>_proj.bias``.
"""
from __future__ import annotations

from typing import Literal, Union

from pydantic import PositiveInt

from ..spec.layer import Case, Layer, ShapeError
from ..spec.registry import register
from . import _conv
from ._cnn_blocks import Parts, channels_of, infer_parts


@register
class PatchEmbedding(Layer):
    kind = "PatchEmbedding"
    type: Literal["PatchEmbedding"] = "PatchEmbedding"
    doc_shapes = "(H, W, C) -> (H/p · W/p, dim)"
    spatial_rank = 2
    shape_fields = ("patch_size", "dim")

    patch_size: Union[PositiveInt, list[PositiveInt]]
    """Patch size, an int or [ph, pw]; must divide H and W."""
    dim: PositiveInt
    """Token width (filters of the patch projection)."""
    use_bias: bool = True
    """Bias on the patch projection conv."""

    def _grid(self, in_shapes) -> tuple[int, int]:
        channels_of(self, in_shapes)
        h, w, _ = in_shapes[0]
        ph, pw = _conv.as_tuple(self.patch_size, 2, "patch_size")
        for axis, n, p in (("height", h, ph), ("width", w, pw)):
            if n % p:
                raise ShapeError(f"patch size {p} does not divide the image {axis} {n}", "patch_size")
        return h // ph, w // pw

    def infer(self, in_shapes):
        self._grid(in_shapes)
        return infer_parts(self, in_shapes)

    def expand(self, inputs, in_shapes):
        gh, gw = self._grid(in_shapes)
        p = Parts(self)
        k = self.patch_size
        x = p.conv("proj", inputs[0], self.dim, k, strides=k, use_bias=self.use_bias)
        p.add("tokens", "Reshape", [x], target_shape=[gh * gw, self.dim])
        return p.layers()

    @classmethod
    def cases(cls):
        return [Case({"patch_size": 2, "dim": 5}, [(4, 6, 3)], "p2"),
                Case({"patch_size": [3, 2], "dim": 4, "use_bias": False}, [(9, 4, 2)], "rect_nobias"),
                Case({"patch_size": 4, "dim": 3}, [(4, 4, 2)], "one_patch")]
