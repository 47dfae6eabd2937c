"""The importer against ONNX's own backend node tests (``onnx.backend.test.case.node``).

The onnx wheel ships the test *generators*, not their data folders, so the cases are generated
in-process: each op's test module is imported and its ``export_*`` functions record a one-node
model, its inputs and the expected outputs (computed by onnx's reference code).

Scope: single-node tests of the ops the importer has a handler for (:func:`scope`), whose
first input and outputs are float32/float64. Each case becomes a model file as a user would
have it: input 0 stays the graph input, every other input becomes an initializer (weights,
biases, shapes, pads, scales), and a node with several outputs gives one case per output (the
others left unread). The case then either imports and reproduces the expected output through
xnn's NumPy reference (rtol 1e-5, atol 1e-5 x max(1, max|y|)), or is refused with a
``FormatError``; anything else (a wrong result, another exception) is a failure.

``python -m xnn.interop.onnx.importer.conformance`` rewrites docs/onnx.md's per-op table.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import os
import pkgutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RTOL = ATOL = 1e-5  # float32 tolerances of xnn's parity checks (atol times the output scale)

# ops the importer maps onto layers but whose test module is named otherwise
_MODULES = {"BatchNormalization": "batch_normalization", "InstanceNormalization": "instance_normalization",
            "Range": "rangeop"}


@dataclass
class Case:
    name: str  # the onnx test's name, ``[k]`` appended when it is output k of several
    op: str
    opset: int
    model: object  # onnx.ModelProto with one input and one output
    x: np.ndarray
    want: np.ndarray


@dataclass
class Result:
    case: Case
    status: str  # pass | refused | wrong | crash
    detail: str = ""


def scope() -> list[str]:
    """The op types whose node tests run: every op with an import handler."""
    from .registry import registry

    return sorted(registry())


_FLOAT = (np.float32, np.float64)


def _generate(ops: list[str]) -> list:
    """onnx's node test cases of ``ops`` (their modules imported once; onnx's generators print and
    warn, which is silenced here)."""
    import onnx.backend.test.case.node as node_pkg

    have = {m.name for m in pkgutil.iter_modules(node_pkg.__path__)}
    mods = sorted({_MODULES.get(op, op.lower()) for op in ops} & have)
    node_pkg._TargetOpType = None  # collect_testcases(op) leaves a filter behind that would skip cases
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for m in mods:
            importlib.import_module(f"{node_pkg.__name__}.{m}")
    return list(node_pkg._NodeTestCases)


def _array(v):
    """A test value as an ndarray (None for sequences, optionals and maps, which are out of scope)."""
    from onnx import TensorProto, numpy_helper

    if isinstance(v, (np.ndarray, np.generic)):
        return np.asarray(v)
    if isinstance(v, TensorProto):
        return numpy_helper.to_array(v)
    return None


def cases(ops: list[str] | None = None) -> list[Case]:
    """The conformance cases of ``ops`` (default :func:`scope`), one per (test, output)."""
    from onnx import helper, numpy_helper

    ops = scope() if ops is None else ops
    out: list[Case] = []
    seen: set[str] = set()
    for tc in _generate(ops):
        g = tc.model.graph
        if len(g.node) != 1 or g.node[0].op_type not in ops or tc.name in seen:
            continue
        seen.add(tc.name)
        inputs, outputs = tc.data_sets[0]
        inputs, outputs = [_array(v) for v in inputs], [_array(v) for v in outputs]
        if not inputs or not isinstance(inputs[0], np.ndarray) or inputs[0].dtype not in _FLOAT:
            continue
        if any(v is None for v in inputs) or any(o is None or o.dtype not in _FLOAT for o in outputs):
            continue
        opset = next((o.version for o in tc.model.opset_import if o.domain in ("", "ai.onnx")), 0)
        inits = [numpy_helper.from_array(np.asarray(v), vi.name) for vi, v in zip(g.input[1:], inputs[1:])]
        for k, (vo, want) in enumerate(zip(g.output, outputs)):
            graph = helper.make_graph(list(g.node), g.name, [g.input[0]], [vo], initializer=inits)
            m = helper.make_model(graph, opset_imports=list(tc.model.opset_import), producer_name="backend-test")
            m.ir_version = tc.model.ir_version
            name = tc.name if len(outputs) == 1 else f"{tc.name}[{k}]"
            out.append(Case(name, g.node[0].op_type, int(opset), m, inputs[0], want))
    return out


def run(case: Case, workdir: str | Path | None = None) -> Result:
    """Import ``case``'s model, run xnn's NumPy reference and compare with the expected output."""
    from ....errors import FormatError
    from ....reference import forward
    from ....spec import from_dict
    from . import import_onnx_full, to_onnx_output, to_xnn_input

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        path = os.path.join(tmp, f"{case.name}.onnx")
        with open(path, "wb") as f:
            f.write(case.model.SerializeToString())
        try:
            sd, params, info = import_onnx_full(path)
        except FormatError as e:
            return Result(case, "refused", str(e).replace(path, "model.onnx").splitlines()[0])
        except Exception as e:  # noqa: BLE001 - every other exception is the failure this reports
            return Result(case, "crash", f"import: {type(e).__name__}: {str(e)[:300]}")
    try:
        spec = from_dict(sd)
        got = to_onnx_output(forward(spec, params, to_xnn_input(case.x, info).astype(np.float64)), info)
    except Exception as e:  # noqa: BLE001
        return Result(case, "crash", f"run: {type(e).__name__}: {str(e)[:300]}")
    want = np.asarray(case.want, np.float64)
    if got.shape != want.shape:
        return Result(case, "wrong", f"shape {list(got.shape)}, expected {list(want.shape)}")
    if close(got, want):
        return Result(case, "pass")
    diff = f"max abs diff {float(np.max(np.abs(got - want))):.3e} from the expected output"
    ort = _onnxruntime(case)
    if ort is not None and ort.shape == want.shape and not close(ort, want) and close(got, ort):
        # the test's expected values are rounded (e.g. written with 4 decimals): ONNX Runtime differs from
        # them too, by more than the tolerance, and xnn agrees with ONNX Runtime within it
        return Result(case, "pass", f"{diff}; ONNX Runtime differs from it by "
                                    f"{float(np.max(np.abs(ort - want))):.3e} and xnn matches ONNX Runtime")
    return Result(case, "wrong", diff)


def close(got: np.ndarray, want: np.ndarray) -> bool:
    """xnn's float32 comparison: rtol 1e-5, atol 1e-5 times the output scale max(1, max|want|)."""
    scale = max(1.0, float(np.max(np.abs(want)))) if want.size else 1.0
    return bool(np.allclose(got, want, rtol=RTOL, atol=ATOL * scale, equal_nan=True))


def _onnxruntime(case: Case) -> np.ndarray | None:
    """ONNX Runtime's output for the case (None when it is not installed or cannot run it)."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    try:
        sess = ort.InferenceSession(case.model.SerializeToString(), providers=["CPUExecutionProvider"])
        return np.asarray(sess.run(None, {case.model.graph.input[0].name: case.x})[0], np.float64)
    except Exception:  # noqa: BLE001 - ORT lacking a kernel only means there is no second reference
        return None


def run_all(ops: list[str] | None = None) -> list[Result]:
    return [run(c) for c in cases(ops)]


# ------------------------------------------------------------------ docs/onnx.md's table
TABLE_BEGIN = "<!-- conformance:begin (generated by python -m xnn.interop.onnx.importer.conformance) -->"
TABLE_END = "<!-- conformance:end -->"


def _reason(detail: str) -> str:
    """A refusal without the file and node prefix (``node #0 (Conv): ...``)."""
    import re

    d = re.sub(r"^model\.onnx: ", "", detail)
    d = re.sub(r"^node #\d+ \([A-Za-z]+\): ", "", d)
    d = re.sub(r"^input '[^']*' ", "the input ", d)
    d = d.split(";")[0].split(" (received")[0]
    d = re.sub(r"\[[^\[\]]*(\[[^\[\]]*\][^\[\]]*)*\]", "[…]", d)  # the values differ per case, the reason not
    d = re.sub(r"\((min|alpha|start)=[^)]*\)", "(…)", d)
    d = re.sub(r"'(Mean|InvStdDev)'", "'…'", d)
    return d if len(d) <= 90 else d[:87] + "..."


def render_table(results: list[Result]) -> str:
    """One row per op: cases, passes, refusals (with their distinct reasons), wrong results, crashes."""
    import onnx

    by: dict[str, list[Result]] = {}
    for r in results:
        by.setdefault(r.case.op, []).append(r)
    total = {s: sum(r.status == s for r in results) for s in ("pass", "refused", "wrong", "crash")}
    rows = [(f"onnx {onnx.__version__}: {len(results)} cases, {total['pass']} imported and matching, "
             f"{total['refused']} refused, {total['wrong']} wrong, {total['crash']} crashed."), "",
            "| ONNX op | cases | pass | refused | wrong | crash | why refused (distinct reasons, first three) |",
            "|---|---|---|---|---|---|---|"]
    for op in sorted(by):
        rs = by[op]
        n = {s: sum(r.status == s for r in rs) for s in ("pass", "refused", "wrong", "crash")}
        reasons: list[str] = []
        for r in rs:
            if r.status == "refused":
                why = _reason(r.detail).replace("|", "\\|")
                if why not in reasons:
                    reasons.append(why)
        more = f" (+{len(reasons) - 3} more)" if len(reasons) > 3 else ""
        rows.append(f"| `{op}` | {len(rs)} | {n['pass']} | {n['refused']} | {n['wrong']} | {n['crash']} | "
                    f"{'; '.join(reasons[:3])}{more} |")
    return "\n".join(rows) + "\n"


def doc_version(path) -> str | None:
    """The onnx version docs/onnx.md's table was generated with (None without a table)."""
    import re

    text = Path(path).read_text()
    if TABLE_BEGIN not in text:
        return None
    m = re.search(r"^onnx (\S+):", text[text.index(TABLE_BEGIN):], re.MULTILINE)
    return m.group(1) if m else None


def update_doc(path, results: list[Result] | None = None) -> bool:
    """Rewrite the table between the markers of ``path``; True when it changed."""
    p = Path(path)
    text = p.read_text()
    i, j = text.index(TABLE_BEGIN), text.index(TABLE_END)
    new = text[:i + len(TABLE_BEGIN)] + "\n" + render_table(run_all() if results is None else results) + text[j:]
    if new != text:
        p.write_text(new)
    return new != text


def main() -> int:
    import importlib

    mod = importlib.import_module("xnn.interop.onnx.importer.conformance")  # the package's instance
    results = mod.run_all()
    bad = [r for r in results if r.status in ("wrong", "crash")]
    for r in bad:
        print(f"{r.status}: {r.case.name}: {r.detail}")
    doc = Path(__file__).resolve().parents[4] / "docs" / "onnx.md"
    print(f"{'updated' if mod.update_doc(doc, results) else 'unchanged'}: {doc}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
