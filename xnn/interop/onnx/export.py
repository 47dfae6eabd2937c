"""Write an ONNX model directly from the xnn IR (no framework tracing).

The graph input ``input`` is channels-last ``(N, *spec.input.shape)`` with a dynamic batch dim
``N``; the output ``output`` is channels-last ``(N, *out_shape)``. Inside, spatial tensors go
channels-first only around the ops that need it (Conv, pools, BatchNormalization).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ...errors import FormatError
from .mapping import Graph, mappings, perm_to_cf, perm_to_cl

MIN_OPSET = 13


def max_opset() -> int:
    """The newest ai.onnx opset the installed ``onnx`` package knows."""
    import onnx

    return int(onnx.defs.onnx_opset_version())


def runtime_opset() -> int | None:
    """The newest opset the installed onnxruntime has CPU kernels for (None without it)."""
    try:
        from onnxruntime.capi import _pybind_state as C  # private, but the only listing there is
    except Exception:  # onnxruntime missing or built differently
        return None
    try:
        vs = [k.version_range[0] for k in C.get_all_opkernel_def()
              if k.domain in ("", "ai.onnx") and k.provider == "CPUExecutionProvider"]
    except Exception:
        return None
    return max(vs) if vs else None


# The default: the widest set of consumers. onnx2torch has no converters for Transpose-25,
# Dropout-22 or Equal-19, MATLAB's importNetworkFromONNX and older runtimes lag further; at 17
# (LayerNormalization's first opset, so LayerNorm stays one op) they all read xnn's files.
DEFAULT_OPSET = 17

# export targets: the opset each reads (None: the newest onnx and onnxruntime share) and the ONNX
# ops it has no converter for (checked per layer before anything is written)
TARGETS: dict[str, dict] = {
    "onnxruntime": {"opset": None, "cannot": {}},
    "onnx2torch": {"opset": 17, "cannot": {"LSTM": "no RNN converters", "GRU": "no RNN converters"}},
    "matlab": {"opset": 17, "cannot": {}},  # importNetworkFromONNX (not run here)
    "tensorflow": {"opset": 15, "cannot": {}},  # onnx-tf reads opsets up to 15 (not run here)
}


def default_opset() -> int:
    """:data:`DEFAULT_OPSET`, within what the installed onnx (and onnxruntime) support."""
    hi = max_opset()
    rt = runtime_opset()
    return max(MIN_OPSET, min(DEFAULT_OPSET, hi, rt if rt else hi))


def target_opset(target: str) -> int:
    """The opset written for ``target`` (see :data:`TARGETS`)."""
    if target not in TARGETS:
        raise FormatError(f"unknown export target {target!r}; choose from {', '.join(TARGETS)}")
    want = TARGETS[target]["opset"]
    if want is None:
        rt = runtime_opset()
        return max(MIN_OPSET, min(max_opset(), rt)) if rt else max_opset()
    return max(MIN_OPSET, min(want, max_opset()))


def target_problems(spec, params, target: str, dtype: str = "float32") -> list[str]:
    """What ``target`` cannot read in ``spec``'s export, one line per layer (empty: all of it)."""
    opset = target_opset(target)
    trace: dict[str, list[str]] = {}
    build_model(spec, params, opset, dtype, trace=trace)
    cannot = TARGETS[target]["cannot"]
    out = []
    for layer, ops in trace.items():
        bad = sorted({o for o in ops if o in cannot})
        if bad:
            out.append(f"{layer}: {target} cannot read " + ", ".join(f"{o} ({cannot[o]})" for o in bad))
    return out


def check_opset(opset: int) -> None:
    hi = max_opset()
    if not (MIN_OPSET <= opset <= hi):
        raise FormatError(f"opset {opset}: xnn writes opsets {MIN_OPSET}..{hi} (the installed onnx's newest is {hi})")


_ELEM = {"float32": "FLOAT", "float64": "DOUBLE", "int64": "INT64", "int32": "INT32"}


def build_model(spec, params: dict[str, np.ndarray], opset: int | None = None, dtype: str = "float32",
                trace: dict | None = None, preprocess: dict | None = None):
    """The ``onnx.ModelProto`` for ``spec`` with canonical ``params`` (checked, not written).

    Raises FormatError listing every node the opset cannot express, before writing anything.
    ``trace`` (a dict) receives each spec node's ONNX op types. ``preprocess`` (a run's fitted
    preprocessing, JSON-able) is stored in the metadata as ``xnn_preprocess``.
    """
    import onnx
    from onnx import TensorProto, helper

    from ... import __version__
    from ...weights import check_params

    opset = default_opset() if opset is None else int(opset)
    check_opset(opset)
    if dtype not in ("float32", "float64"):
        raise FormatError(f"dtype must be float32 or float64 (received {dtype!r})")
    check_params(params, spec, source="params")
    maps = mappings()
    problems = []
    for n in spec.nodes:
        m = maps.get(n.kind)
        if m is None:
            problems.append(f"{n.name} ({n.kind}): no ONNX mapping")
            continue
        why = m.unsupported(n, opset)
        if why:
            problems.append(f"{n.name} ({n.kind}): {why}")
    if problems:
        raise FormatError([f"cannot export at opset {opset}: " + p for p in problems])

    g = Graph(opset, dtype)
    in_dtype = spec.input.dtype if spec.input.dtype.startswith("int") else dtype
    rank_in = len(spec.input_shape) + 1
    # per xnn tensor: (onnx name, layout, batch rank)
    tens: dict[str, tuple[str, str, int]] = {"input": ("input", "cl", rank_in)}
    for n in spec.nodes:
        m = maps[n.kind]
        want = tens[n.inputs[0]][1] if m.layout == "any" else m.layout
        xs = []
        for i in n.inputs:
            name, lay, r = tens[i]
            if r >= 3 and lay != want:
                name = g.transpose(name, perm_to_cf(r) if want == "cf" else perm_to_cl(r), f"{i}_to_{want}")
            xs.append(name)
        p = {k: np.asarray(params[f"{n.name}.{k}"]) for k in n.params}
        first = len(g.nodes)
        out = m.emit(n, g, xs, p, want)
        if trace is not None:
            trace[n.origin or n.name] = trace.get(n.origin or n.name, []) + [x.op_type for x in g.nodes[first:]]
        r = len(n.out_shape) + 1
        tens[n.name] = (out, want if r >= 3 else "cl", r)
    last, lay, r = tens[spec.output.name]
    if lay == "cf" and r >= 3:
        last = g.transpose(last, perm_to_cl(r), "output_to_cl")
    _rename_output(g, last)

    ety = getattr(TensorProto, _ELEM[in_dtype])
    inp = helper.make_tensor_value_info("input", ety, ["N", *spec.input_shape])
    out = helper.make_tensor_value_info("output", g.elem_type, ["N", *spec.output.out_shape])
    graph = helper.make_graph(g.nodes, _safe(spec.name), [inp], [out], initializer=g.initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="xnn", producer_version=__version__)
    model.ir_version = min(model.ir_version, _ir_for_opset(opset))
    props = {"xnn_version": __version__, "xnn_spec": json.dumps(spec.raw, sort_keys=True)}
    if preprocess is not None:
        props["xnn_preprocess"] = json.dumps(preprocess, sort_keys=True, allow_nan=False)
    helper.set_model_props(model, props)
    onnx.checker.check_model(model, full_check=True)
    onnx.shape_inference.infer_shapes(model, strict_mode=True, check_type=True)
    return model


def _ir_for_opset(opset: int) -> int:
    """The IR version released with ``opset`` (older runtimes reject newer IR versions)."""
    from onnx import helper

    best = None
    for _rel, ir, ai, *_ in helper.VERSION_TABLE:
        if ai >= opset:
            best = ir if best is None else min(best, ir)
    return best if best is not None else helper.VERSION_TABLE[-1][1]


def _rename_output(g: Graph, last: str) -> None:
    """Name the final tensor ``output`` (an Identity when it is no node's output, e.g. ``input``)."""
    from onnx import helper

    for node in g.nodes:
        for i, o in enumerate(node.output):
            if o == last:
                node.output[i] = "output"
                for other in g.nodes:  # keep consumers (none for the last node, but be exact)
                    for j, x in enumerate(other.input):
                        if x == last:
                            other.input[j] = "output"
                return
    g.nodes.append(helper.make_node("Identity", [last], ["output"], name=g.fresh("output/Identity")))


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "model"


def export_onnx(spec, params: dict[str, np.ndarray], path: str | Path, opset: int | None = None,
                dtype: str = "float32", preprocess: dict | None = None) -> Path:
    """Write ``spec`` with canonical ``params`` to ``path`` as ONNX; returns the path.

    Input ``input`` is ``(N, *spec.input.shape)`` channels-last, output ``output`` is
    ``(N, *spec.output.out_shape)``. ``opset`` defaults to :func:`default_opset`. The model is
    checked (``check_model(full_check=True)``, strict shape inference) before it is written,
    atomically.
    """
    from ...fileio import write_bytes

    model = build_model(spec, params, opset, dtype, preprocess=preprocess)
    path = Path(path)
    write_bytes(path, model.SerializeToString())
    return path
