"""Post-training int8 quantization of a run's ONNX export with ``onnxruntime.quantization``.

- ``dynamic``: weights int8 (per tensor) stored in the file; activations quantized at run time
  per batch (``DynamicQuantizeLinear`` + ``MatMulInteger``/``ConvInteger``). No data needed.
- ``static``: weights int8 per output channel, activations uint8 with scales fixed by a
  calibration pass (MinMax) over ``calibration`` samples of the run's *training* split (a seeded
  draw), written in QDQ form (``QuantizeLinear``/``DequantizeLinear`` pairs around float ops,
  which ONNX Runtime fuses into int8 kernels).

The float model is xnn's own export of the run (what ``xnn export --onnx`` writes), first passed
through ``quant_pre_process`` (shape inference and graph clean-up ORT recommends before
quantizing). The output keeps the export's metadata (``xnn_spec``, ``xnn_preprocess``) and adds
``xnn_quantization``.
"""
from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path

import numpy as np

from ..errors import FormatError
from . import measure as M

MODES = ("dynamic", "static")


class _Reader:
    """``CalibrationDataReader``: the calibration samples in batches."""

    def __init__(self, name: str, x: np.ndarray, batch: int = 32):
        xin = x.astype(np.float32) if np.issubdtype(x.dtype, np.floating) else x
        self._it = iter([{name: xin[i:i + batch]} for i in range(0, len(xin), batch)])

    def get_next(self):
        return next(self._it, None)

    def rewind(self):  # the protocol's optional method; one pass is all MinMax needs
        pass


def calibration_samples(ds, n: int, seed: int) -> np.ndarray:
    """``n`` samples of the training split (all of it when smaller), a seeded draw."""
    x = ds.train[0]
    if n >= len(x):
        return x
    idx = np.sort(np.random.default_rng([seed, 0x51]).permutation(len(x))[:n])
    return x[idx]


def quantize_onnx(float_path: Path, out_tmp: Path, mode: str, calib: np.ndarray | None = None) -> list[str]:
    """Write the quantized model of ``float_path`` to ``out_tmp``; returns notes."""
    try:
        from onnxruntime.quantization import (
            CalibrationMethod,
            QuantFormat,
            QuantType,
            quantize_dynamic,
            quantize_static,
        )
    except ImportError:
        raise FormatError("--quantize needs onnxruntime with onnxruntime.quantization "
                          "(pip install 'xnn[onnx]')") from None

    notes = []
    src = float_path
    pre = out_tmp.with_name("pre.onnx")
    try:
        from onnxruntime.quantization.shape_inference import quant_pre_process

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quant_pre_process(str(float_path), str(pre))
        src = pre
    except Exception as e:  # noqa: BLE001 - optional clean-up: quantize the export as is
        notes.append(f"quant_pre_process skipped ({type(e).__name__}: {(str(e).splitlines() or [''])[0][:120]})")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if mode == "dynamic":
                quantize_dynamic(str(src), str(out_tmp), weight_type=QuantType.QInt8)
            else:
                import onnx

                name = onnx.load(str(src), load_external_data=False).graph.input[0].name
                quantize_static(str(src), str(out_tmp), _Reader(name, calib), quant_format=QuantFormat.QDQ,
                                activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True,
                                calibrate_method=CalibrationMethod.MinMax)
    except Exception as e:  # noqa: BLE001 - ORT's own failure, in one line
        raise FormatError(f"--quantize {mode}: onnxruntime.quantization failed: {type(e).__name__}: "
                          f"{(str(e).splitlines() or [''])[0][:200]}") from None
    return notes


def _finish(q_tmp: Path, float_path: Path, out: Path, info: dict) -> None:
    """Copy the export's metadata, add ``xnn_quantization``, check, write ``out`` atomically."""
    import onnx

    from ..fileio import write_bytes

    q = onnx.load(str(q_tmp))
    f = onnx.load(str(float_path), load_external_data=False)
    props = {p.key: p.value for p in f.metadata_props}
    props.update({p.key: p.value for p in q.metadata_props})
    props["xnn_quantization"] = json.dumps(info, sort_keys=True)
    del q.metadata_props[:]
    onnx.helper.set_model_props(q, props)
    onnx.checker.check_model(q)
    write_bytes(out, q.SerializeToString())


def quantize_run(run_dir: str | Path, mode: str, out: str | Path | None = None, calibration: int = 256,
                 force: bool = False, batch: int = 64, repeats: int = 50, threads: int = 1) -> dict:
    """Quantize the run's ONNX export to ``out`` (default ``RUN/model_int8_<mode>.onnx``) and
    compare it with the float export on the run's test split. Returns the report (JSON-able)."""
    from ..cli._common import check_output_file, load_run, protected_files
    from ..errors import SpecError
    from ..interop.onnx import export_onnx

    if mode not in MODES:
        raise SpecError(f"--quantize: must be one of {list(MODES)} (received {mode!r})")
    if calibration < 1:
        raise SpecError(f"--calibration: must be >= 1 (received {calibration})")
    run_dir = Path(run_dir)
    spec, params, man = load_run(run_dir)
    out = Path(out) if out is not None else run_dir / f"model_int8_{mode}.onnx"
    check_output_file(out, force=force, protected=protected_files(run_dir))
    ds = M.run_data(spec, man, run_dir)
    calib = calibration_samples(ds, calibration, spec.train.seed) if mode == "static" else None
    with tempfile.TemporaryDirectory(prefix="xnn-quantize-") as tmp:
        fp = Path(tmp) / "float32.onnx"
        export_onnx(spec, params, fp, preprocess=man.get("preprocess"))
        q_tmp = Path(tmp) / "int8.onnx"
        notes = quantize_onnx(fp, q_tmp, mode, calib)
        info = {"mode": mode, "format": "QDQ" if mode == "static" else "dynamic (integer ops)",
                "weights": "int8 per channel" if mode == "static" else "int8 per tensor",
                "activations": "uint8, scales from calibration (MinMax)" if mode == "static" else "uint8 per batch at run time",
                "calibration_samples": len(calib) if calib is not None else 0,
                "from_run": str(run_dir.resolve())}
        _finish(q_tmp, fp, out, info)
        import onnx

        ops = {n.op_type for n in onnx.load(str(out), load_external_data=False).graph.node}
        rep = M.compare(spec, fp, out, *ds.test, labels=("float32", f"int8 {mode}"), batch=batch,
                        repeats=repeats, threads=threads)
    rep.update({"kind": "quantize", "run": str(run_dir), "out": str(out), "quantization": info, "notes": notes})
    ta, tb = rep["timing"]["median_s"]
    if tb > ta:
        rep["notes"].append(f"int8 {mode} is {tb / ta:.2f}x SLOWER than float32 here; common for small models on "
                            f"CPU, where the (de)quantize steps and int8 kernels' fixed costs outweigh the "
                            f"multiply-adds saved")
    if mode == "dynamic" and "ConvInteger" in ops:
        rep["notes"].append("dynamic quantization turns convolutions into ConvInteger, which ONNX Runtime's CPU "
                            "provider runs without an optimised kernel; for CNNs prefer --quantize static")
    return rep
