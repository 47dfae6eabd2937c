"""A run's fitted preprocessing in a model .mat file: the ``preprocess`` struct (docs/mat-format.md).

The run keeps it in ``manifest.json`` (``preprocess``, :meth:`xnn.data.Preprocess.to_dict`); the
file holds the same numbers shaped to broadcast against MATLAB-order arrays, so that
``xnn.predict(model, X, 'preprocess', true)`` computes ``(X - x_shift) ./ x_scale`` on raw inputs
and ``Y .* y_scale + y_shift`` on regression outputs (``y_method: standardize``):

=============  =====================================================================
``x_method``   ``none`` | ``standardize`` | ``minmax``
``x_shift``    per input channel, shaped like BatchNorm's parameters for the input
``x_scale``    format (C x 1 for CB/CBT, 1 x C for SCB, 1 x 1 x C for SSCB); [] for none
``y_method``   ``none`` | ``onehot`` | ``standardize``
``y_shift``    per output channel (the output format's channel shape); [] unless
``y_scale``    standardize
``n_classes``  double scalar (onehot), else []
``classes``    cell 1 x k of char: names of labels 0..k-1 (text labels of a CSV), else {}
=============  =====================================================================
"""
from __future__ import annotations

import numpy as np

from ...errors import FormatError
from . import layouts

X_METHODS = ("none", "standardize", "minmax")
Y_METHODS = ("none", "onehot", "standardize")
FIELDS = ("x_method", "x_shift", "x_scale", "y_method", "y_shift", "y_scale", "n_classes", "classes")


def _empty() -> np.ndarray:
    return np.zeros((0, 0))


def to_mat(pre: dict, spec, ctx) -> dict:
    """The ``preprocess`` struct from a manifest's ``preprocess`` dict (checked against ``spec``)."""
    from ...data.preprocess import Preprocess
    from ...errors import DataError

    try:
        p = Preprocess.from_dict(pre)
    except DataError as e:
        raise FormatError(f"preprocess: {e.messages[0]}") from None
    _check(p, spec, "preprocess")
    in_c, out_c = int(spec.input_shape[-1]) if spec.input_shape else 1, int(spec.output.out_shape[-1])
    x_shape = layouts.channel_shape(ctx.formats["input"], in_c)
    y_shape = layouts.channel_shape(ctx.formats[spec.output.name], out_c)
    on_x = p.x_method != "none" and p.x_shift is not None
    on_y = p.y_method == "standardize" and p.y_shift is not None
    classes = np.empty((1, len(p.classes or [])), dtype=object)
    for i, c in enumerate(p.classes or []):
        classes[0, i] = str(c)
    return {
        "x_method": p.x_method,
        "x_shift": np.asarray(p.x_shift, np.float64).reshape(x_shape) if on_x else _empty(),
        "x_scale": np.asarray(p.x_scale, np.float64).reshape(x_shape) if on_x else _empty(),
        "y_method": p.y_method,
        "y_shift": np.asarray(p.y_shift, np.float64).reshape(y_shape) if on_y else _empty(),
        "y_scale": np.asarray(p.y_scale, np.float64).reshape(y_shape) if on_y else _empty(),
        "n_classes": np.float64(p.n_classes) if p.n_classes is not None else _empty(),
        "classes": classes,
    }


def _check(p, spec, where: str) -> None:
    """Methods known; shift/scale finite, scale non-zero, one per input (output) channel."""
    errors = []
    if p.x_method not in X_METHODS:
        errors.append(f"{where}.x_method: {p.x_method!r} is not one of {list(X_METHODS)}")
    if p.y_method not in Y_METHODS:
        errors.append(f"{where}.y_method: {p.y_method!r} is not one of {list(Y_METHODS)}")
    in_c = int(spec.input_shape[-1]) if spec.input_shape else 1
    out_c = int(spec.output.out_shape[-1])
    for side, method, shift, scale, c in (("x", p.x_method, p.x_shift, p.x_scale, in_c),
                                          ("y", p.y_method, p.y_shift, p.y_scale, out_c)):
        if method not in ("standardize", "minmax"):
            continue
        if shift is None or scale is None:
            errors.append(f"{where}.{side}_shift: {side}_method {method} needs {side}_shift and {side}_scale")
            continue
        for name, a in ((f"{side}_shift", shift), (f"{side}_scale", scale)):
            a = np.asarray(a)
            if a.size != c:
                errors.append(f"{where}.{name}: {a.size} values; the model's {'input' if side == 'x' else 'output'} "
                              f"has {c} channels")
            elif not np.all(np.isfinite(a)):
                errors.append(f"{where}.{name}: contains NaN or Inf")
            elif name.endswith("scale") and np.any(a == 0):
                errors.append(f"{where}.{name}: contains 0 (a scale divides)")
    if p.x_method != "none" and spec.input.dtype.startswith("int"):
        errors.append(f"{where}.x_method: {p.x_method} on integer inputs (indices)")
    if errors:
        raise FormatError(errors)


def from_mat(v, spec, path) -> dict | None:
    """The manifest form (:meth:`Preprocess.to_dict`) of a file's ``preprocess`` struct, checked;
    FormatError naming ``preprocess.<field>`` on anything malformed."""
    from ...data.preprocess import Preprocess

    where = f"{path}: variable preprocess"
    if not isinstance(v, dict):
        raise FormatError(f"{where}: not a struct")
    missing = [f for f in FIELDS if f not in v]
    if missing:
        raise FormatError(f"{where}: lacks the field(s) {missing}")

    def text(k):
        if not isinstance(v[k], str):
            raise FormatError(f"{where}.{k}: not a char row")
        return v[k]

    def arr(k):
        a = v[k]
        if not isinstance(a, np.ndarray) or a.dtype.kind not in "iuf":
            raise FormatError(f"{where}.{k}: not a real numeric array")
        return None if a.size == 0 else a.astype(np.float64).reshape(-1)

    n = arr("n_classes")
    if n is not None and (n.size != 1 or not np.isfinite(n[0]) or n[0] != round(n[0]) or n[0] < 1):
        raise FormatError(f"{where}.n_classes: must be a positive whole number or []")
    c = v["classes"]
    if isinstance(c, str):
        c = [c] if c else []
    elif isinstance(c, np.ndarray) and c.size == 0:
        c = []
    elif isinstance(c, np.ndarray) and c.dtype == object and all(isinstance(s, str) for s in c.flat):
        c = [str(s) for s in c.reshape(-1, order="F")]
    else:
        raise FormatError(f"{where}.classes: not a cell of char")
    p = Preprocess(x_method=text("x_method"), x_shift=arr("x_shift"), x_scale=arr("x_scale"),
                   y_method=text("y_method"), y_shift=arr("y_shift"), y_scale=arr("y_scale"),
                   n_classes=None if n is None else int(n[0]), classes=c or None)
    try:
        _check(p, spec, where)
    except FormatError as e:
        raise FormatError(e.messages) from None
    return p.to_dict()
