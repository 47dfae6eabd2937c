"""GroupNorm -> ONNX, exact at every opset; the per-channel ``weight``/``bias`` are always a
``Mul`` and an ``Add`` after the normalization (so the importer tells ``affine`` from the graph):

- one group per channel (instance normalization): ``InstanceNormalization`` (scale 1, B 0) on the
  channels-first tensor (a vector ``(N, C)`` gets a unit axis: the op needs rank >= 3);
- opset >= 21: ``GroupNormalization`` (scale 1, bias 0, ``stash_type`` the export dtype);
- below 21 (``GroupNormalization``-18 is deprecated: its scale was per group), the decomposition
  ONNX's own function uses, written channels-last so the importer reads it back as one layer:
  ``Reshape`` ``(N, *S, C)`` -> ``(N, *S, G, C/G)``, ``Transpose`` to ``(N, G, *S, C/G)``,
  ``InstanceNormalization`` (scale 1, B 0: per sample and group, over ``*S`` and ``C/G``), and back.
"""
from __future__ import annotations

import numpy as np

from ..mapping import OnnxMapping, perm_to_cf, perm_to_cl


class GroupNormX(OnnxMapping):
    kind = "GroupNorm"
    layout = "any"

    def emit(self, node, g, xs, params, layout):
        from onnx import helper

        L, n, x = node.layer, node.name, xs[0]
        shape = tuple(node.in_shapes[0])
        c, k = shape[-1], len(shape) - 1  # channels, spatial axes
        groups = L.num_groups(c)
        eps = float(L.eps)
        r = k + 2  # batch rank
        cf_in = layout == "cf" and r >= 3
        if groups == c or g.opset >= 21:  # channels-first ops
            y = x if cf_in or r < 3 else g.transpose(x, perm_to_cf(r), f"{n}_to_cf")
            if r == 2:
                y = g.op("Unsqueeze", [y, g.ints(f"{n}.axes", [2])], f"{n}_unsqueezed")
            if groups == c:
                y = g.op("InstanceNormalization", [y, g.init(f"{n}.one", np.ones(c)), g.init(f"{n}.zero", np.zeros(c))],
                         f"{n}_normed", epsilon=eps)
            else:
                y = g.op("GroupNormalization", [y, g.init(f"{n}.one", np.ones(c)), g.init(f"{n}.zero", np.zeros(c))],
                         f"{n}_normed", epsilon=eps, num_groups=groups,
                         stash_type=helper.np_dtype_to_tensor_dtype(g.dtype))
            if r == 2:
                y = g.op("Squeeze", [y, g.ints(f"{n}.squeeze_axes", [2])], f"{n}_squeezed")
            elif not cf_in:
                y = g.transpose(y, perm_to_cl(r), f"{n}_to_cl")
        else:  # the channels-last decomposition
            y = g.transpose(x, perm_to_cl(r), f"{n}_to_cl") if cf_in else x
            cg = c // groups
            y = g.op("Reshape", [y, g.ints(f"{n}.grouped_shape", [0, *shape[:-1], groups, cg])], f"{n}_grouped")
            to_g = [0, k + 1, *range(1, k + 1), k + 2]
            y = g.transpose(y, to_g, f"{n}_groups_first")
            y = g.op("InstanceNormalization", [y, g.init(f"{n}.one", np.ones(groups)),
                                               g.init(f"{n}.zero", np.zeros(groups))], f"{n}_normed", epsilon=eps)
            y = g.transpose(y, [int(i) for i in np.argsort(to_g)], f"{n}_groups_back")
            y = g.op("Reshape", [y, g.ints(f"{n}.shape", [0, *shape])], f"{n}_ungrouped")
            if cf_in:
                y = g.transpose(y, perm_to_cf(r), f"{n}_to_cf")
        if not L.affine:
            return g.op("Identity", [y], n)
        vshape = (c, *(1,) * k) if cf_in else (c,)
        y = g.op("Mul", [y, g.init(f"{n}.weight", params["weight"].reshape(vshape))], f"{n}_scaled")
        return g.op("Add", [y, g.init(f"{n}.bias", params["bias"].reshape(vshape))], n)
