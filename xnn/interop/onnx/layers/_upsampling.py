"""UpSampling1D/2D -> ``Resize`` (channels-first, ``scales`` ``[1, 1, *size]`` as float32, no roi).

nearest: ``mode=nearest, coordinate_transformation_mode=asymmetric, nearest_mode=floor``
(source ``floor(o / s)``, exact for integer factors); bilinear: ``mode=linear,
coordinate_transformation_mode=half_pixel`` (the source coordinate is clamped into the input, as
in torch and TF). ``Resize`` has these attributes from opset 11 on, so every opset xnn writes.
"""
from __future__ import annotations

import numpy as np

from ..mapping import OnnxMapping


class _UpSamplingX(OnnxMapping):
    layout = "cf"

    def emit(self, node, g, xs, params, layout):
        L = node.layer
        scales = g.init(f"{node.name}_scales", np.array([1.0, 1.0, *L.factors()]), np.float32)
        if L.method == "bilinear":
            attrs = dict(mode="linear", coordinate_transformation_mode="half_pixel")
        else:
            attrs = dict(mode="nearest", coordinate_transformation_mode="asymmetric", nearest_mode="floor")
        return g.op("Resize", [xs[0], "", scales], node.name, **attrs)
