"""Resize (opset 10+) and Upsample (7..9) by integer factors >= 1 of the spatial axes ->
UpSampling1D/2D.

xnn has two upsamplings: ``nearest`` (output cell ``o`` copies ``o // s``) and 2-D ``bilinear``
with half-pixel centres. Rather than trusting attribute names, the importer evaluates ONNX's own
coordinate formula (``coordinate_transformation_mode``, ``nearest_mode``) for every output cell
of the actual sizes and accepts the node only when the result is exactly one of those two:
``asymmetric``+``floor`` and ``half_pixel``+``round_prefer_floor`` (Resize-11's defaults) are
both the repeat, ``half_pixel``/``pytorch_half_pixel`` linear is xnn's bilinear; anything else
(``align_corners``, asymmetric linear as in Upsample and Resize-10, cubic, down-scaling,
non-integer factors, a scaled batch or channel axis) is refused with the reason.
"""
from __future__ import annotations

import math

import numpy as np

from ..registry import handles
from ..state import T, add_layer, base_of, err, need_const, need_tensor


def _s(v, default: str) -> str:
    v = default if v is None else v
    return v.decode() if isinstance(v, bytes) else str(v)


def _source(o: int, n: int, m: int, scale: float, ctm: str) -> float:
    """ONNX Resize's ``x_original`` of output cell ``o`` (input size ``n``, output ``m``)."""
    if ctm == "half_pixel":
        return (o + 0.5) / scale - 0.5
    if ctm == "pytorch_half_pixel":
        return (o + 0.5) / scale - 0.5 if m > 1 else 0.0
    if ctm == "half_pixel_symmetric":
        adj = m / (scale * n)
        return n / 2.0 * (1 - adj) + (o + 0.5) / scale - 0.5
    if ctm == "align_corners":
        return 0.0 if m == 1 else o * (n - 1) / (m - 1)
    if ctm == "asymmetric":
        return o / scale
    if ctm == "tf_half_pixel_for_nn":
        return (o + 0.5) / scale
    raise ValueError(ctm)


def _nearest(u: float, mode: str) -> int:
    if mode == "round_prefer_floor":
        return math.ceil(u - 0.5)
    if mode == "round_prefer_ceil":
        return math.floor(u + 0.5)
    if mode == "floor":
        return math.floor(u)
    if mode == "ceil":
        return math.ceil(u)
    raise ValueError(mode)


def _matches(n: int, s: int, mode: str, ctm: str, nmode: str) -> bool:
    """True when ONNX's formula for one axis is xnn's nearest (``mode=nearest``) or bilinear."""
    m = n * s
    if mode == "nearest":
        return all(min(max(_nearest(_source(o, n, m, float(s), ctm), nmode), 0), n - 1) == o // s for o in range(m))
    from .....layers._upsampling import linear_matrix

    A = np.zeros((m, n))
    for o in range(m):  # ONNX linear: neighbours floor(u), floor(u) + 1, edges repeated
        u = _source(o, n, m, float(s), ctm)
        i0 = math.floor(u)
        lam = u - i0
        A[o, min(max(i0, 0), n - 1)] += 1 - lam
        A[o, min(max(i0 + 1, 0), n - 1)] += lam
    return bool(np.allclose(A, linear_matrix(n, s), rtol=0, atol=1e-12))


def _factors(st, node, x: T, per_axis: list[float], what: str) -> list[int]:
    """ONNX per-axis scales -> xnn spatial factors; only spatial axes may grow, by integers."""
    nd = len(x.shape) - 1
    out = [1] * nd
    for i, f in enumerate(per_axis):
        xa = x.axes[i]
        if xa is None or xa == 0 or xa == nd + 1:
            if f != 1:
                err(st, node, f"{what} {per_axis} scale the batch, channel or an inserted unit axis")
            continue
        if f < 1 or f != int(f):
            err(st, node, f"{what} {per_axis}: xnn upsamples by integer factors >= 1 only")
        out[xa - 1] = int(f)
    return out


def _upsample(st, node, x: T, factors: list[int], mode: str, ctm: str, nmode: str) -> T:
    nd = len(factors)
    if all(f == 1 for f in factors):
        return x
    if nd not in (1, 2):
        err(st, node, f"upsampling a tensor with {nd} spatial axes is not an xnn layer (UpSampling1D/2D)")
    if x.perm is not None:
        err(st, node, "resizing a permuted feature vector")
    if mode not in ("nearest", "linear"):
        err(st, node, f"mode {mode!r}: xnn upsamples with nearest or (2-D) half-pixel bilinear only")
    if mode == "linear" and nd == 1:
        err(st, node, "linear 1-D upsampling is not an xnn layer (UpSampling1D repeats steps)")
    for i, s in enumerate(factors):
        if s > 1 and not _matches(x.shape[i], s, mode, ctm, nmode):
            want = ("xnn's nearest copies cell o // s (e.g. asymmetric + floor)" if mode == "nearest"
                    else "xnn's bilinear uses half-pixel centres (half_pixel)")
            err(st, node, f"{mode} with coordinate_transformation_mode={ctm!r}"
                          + (f", nearest_mode={nmode!r}" if mode == "nearest" else "")
                          + f" does not give xnn's upsampling for this size; {want}")
    fields = {"size": factors[0] if nd == 1 else factors}
    if nd == 2:
        fields["interpolation"] = "nearest" if mode == "nearest" else "bilinear"
    y = add_layer(st, node, f"UpSampling{nd}D", fields, [base_of(x)])
    if x.node in st.nonneg:
        st.nonneg.add(y.node)  # nearest copies, bilinear mixes with weights in [0, 1]
    return T(y.node, y.shape, x.axes)


@handles("Upsample", xnn="UpSampling1D/2D", cf=True, notes="nearest, integer scales (attribute)")
def _upsample7(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    scales = list(a.get("scales", [])) if st.opset < 9 else need_const(st, node, ins[1], "scales").reshape(-1).tolist()
    if len(scales) != x.rank:
        err(st, node, f"scales {scales} do not match the rank {x.rank}")
    # Upsample's coordinates are asymmetric (o / s), nearest rounds down
    return _upsample(st, node, x, _factors(st, node, x, scales, "scales"), _s(a.get("mode"), "nearest"),
                     "asymmetric", "floor")


@handles("Upsample", since=9, xnn="UpSampling1D/2D", cf=True, notes="nearest, integer scales (input)")
def _upsample9(st, node, ins, a):
    return _upsample7(st, node, ins, a)


@handles("Resize", since=10, xnn="UpSampling1D/2D", cf=True,
         notes="integer scales or sizes; nearest = o // s, linear = half-pixel bilinear (2-D); checked per size")
def _resize(st, node, ins, a):
    x = need_tensor(st, node, ins[0])
    mode = _s(a.get("mode"), "nearest")
    if st.opset < 11:  # Resize-10: X, scales; asymmetric coordinates
        ctm, nmode = "asymmetric", "floor"
        scales, sizes = ins[1], None
    else:
        ctm = _s(a.get("coordinate_transformation_mode"), "half_pixel")
        nmode = _s(a.get("nearest_mode"), "round_prefer_floor")
        scales = ins[2] if len(ins) > 2 else None
        sizes = ins[3] if len(ins) > 3 else None
    if ctm == "tf_crop_and_resize":
        err(st, node, "coordinate_transformation_mode 'tf_crop_and_resize' (a crop) is not an xnn layer")
    if _s(a.get("keep_aspect_ratio_policy"), "stretch") != "stretch" and sizes is not None:
        err(st, node, "keep_aspect_ratio_policy other than 'stretch' is not supported")
    r = x.rank
    axes = [int(v) % r for v in a.get("axes", range(r))]
    shape = x.onnx_shape()
    per = [1.0] * r
    if scales is not None and np.asarray(need_const(st, node, scales, "scales")).size:
        vals = need_const(st, node, scales, "scales").astype(np.float64).reshape(-1).tolist()
        what = "scales"
    elif sizes is not None:
        sz = need_const(st, node, sizes, "sizes").astype(np.int64).reshape(-1).tolist()
        what = "sizes"
        vals = []
        for j, i in enumerate(axes[:len(sz)]):
            n = shape[i]
            if x.axes[i] == 0:
                vals.append(1.0)  # the batch: kept (its size is dynamic here)
            else:
                vals.append(sz[j] / n)
    else:
        err(st, node, "needs constant scales or sizes")
    if len(vals) != len(axes):
        err(st, node, f"{what} {vals} do not match the {len(axes)} resized axes")
    for j, i in enumerate(axes):
        per[i] = vals[j]
    return _upsample(st, node, x, _factors(st, node, x, per, what), mode, ctm, nmode)
