"""What a MATLAB/Octave user of xnn's .mat files relies on (docs/matlab.md, docs/mat-format.md):

- the run's fitted preprocessing travels in the model file and ``xnn.predict(model, X,
  'preprocess', true)`` on raw data equals ``xnn predict RUN`` (float64: to 1e-12); the reader
  checks it, ``xnn import`` restores it, files without it still load;
- data files are written in MATLAB's order (H x W x C x N, F x N, F x N x T) with ``x_format``,
  read back in either order, and an image model predicts from such a file exactly as xnn does;
- xnn.compare's tolerance is tight enough that a BatchNorm/LayerNorm forward without eps fails;
- examples/matlab_compare.m runs from any folder.
Octave tests run a real ``octave-cli``; the Python ones run everywhere.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import scipy.io

import xnn
import xnn.data as xd
from xnn.errors import DataError, FormatError
from xnn.fileio import write_json, write_text
from xnn.interop.mat import COMPARE_REL_TOL, export_mat, import_mat_full, write_data
from xnn.interop.mat.data import from_matlab, to_matlab
from xnn.interop.mat.reader import read_variables
from xnn.interop.mat.writer import build_variables
from xnn.reference import forward
from xnn.spec import load_spec

from .test_mat_octave import MATLAB_DIR, OCTAVE, ROOT, run_octave

needs_octave = pytest.mark.skipif(OCTAVE is None, reason="GNU Octave (octave-cli) is not installed")
HEAD = f"warning('off', 'Octave:shadowed-function'); addpath('{MATLAB_DIR}');\n"


@pytest.fixture
def cli(capsys):
    from xnn.cli import main

    def go(*argv):
        code = main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return go


def _rel(y, r) -> float:
    """xnn.compare's measure: max |y - r| / max(1, max |r|)."""
    y, r = np.asarray(y, np.float64), np.asarray(r, np.float64)
    return float(np.max(np.abs(y - r)) / max(1.0, float(np.max(np.abs(r)))))


def _run(tmp: Path, spec_dict: dict, seed: int = 0) -> tuple[Path, object, dict, object]:
    """A run folder as ``xnn train`` writes it, with seeded initial weights (no training)."""
    spec = load_spec(spec_dict)
    d = tmp / "run"
    d.mkdir()
    write_text(d / "spec.yaml", spec.to_yaml())
    params = {k: v.astype(spec.train.dtype) for k, v in xnn.init_params(spec, seed).items()}
    xnn.save_weights(d / "weights.safetensors", params)
    ds = xd.load(spec)
    write_json(d / "manifest.json", {"backend": "torch", "preprocess": ds.preprocess.to_dict()})
    return d, spec, params, ds


def _regression(tmp: Path):
    """float64 regression on a .npz with offsets and scales per feature: data.x and data.y
    standardize, so both directions of the preprocessing matter."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(60, 5)) * np.array([1, 10, 0.1, 3, 100]) + np.array([5, -20, 0.3, 0, 1000])
    y = np.stack([x[:, 0] * 2 + x[:, 1], x[:, 4] / 100], axis=1) + rng.normal(size=(60, 2)) * 0.1
    np.savez(tmp / "reg.npz", x=x, y=y)
    return _run(tmp, {"name": "reg", "input": {"shape": [5]}, "model": [
        {"type": "Dense", "units": 7, "name": "fc1"}, {"type": "tanh", "name": "act"},
        {"type": "Dense", "units": 2, "name": "out"}],
        "train": {"loss": "mse", "metrics": [], "dtype": "float64"},
        "data": {"source": str(tmp / "reg.npz"), "x": "standardize", "y": "standardize",
                 "split": {"val": 0.2, "test": 0.25}}})


# ------------------------------------------------------------------ preprocessing (Python)
@pytest.mark.parametrize("version", ["7", "7.3"])
def test_preprocess_struct_round_trip(tmp_path, version):
    d, spec, params, ds = _regression(tmp_path)
    pre = ds.preprocess.to_dict()
    f = tmp_path / "m.mat"
    if version == "7.3":
        with pytest.warns(UserWarning, match="v7.3"):
            export_mat(spec, params, f, preprocess=pre, version=version)
    else:
        export_mat(spec, params, f, preprocess=pre, version=version)
    _, back, info = import_mat_full(f)
    assert info["preprocess"] == pre
    assert all(np.array_equal(back[k], params[k]) for k in params)
    v, _ = read_variables(f)
    assert v["preprocess"]["x_shift"].shape == (5, 1)  # C x 1 for a CB input: broadcasts over N
    assert v["preprocess"]["y_scale"].shape == (2, 1)
    export_mat(spec, params, tmp_path / "old.mat")  # from a spec: no preprocess variable
    assert import_mat_full(tmp_path / "old.mat")[2]["preprocess"] is None
    assert "preprocess" not in read_variables(tmp_path / "old.mat")[0]


def test_preprocess_channel_shapes_and_classes(tmp_path):
    """Image inputs: 1 x 1 x C shifts; text label names come back as a list."""
    spec = load_spec({"input": {"shape": [4, 3, 2]}, "model": [{"type": "Flatten"}, {"type": "Dense", "units": 3}]})
    pre = {"x": {"method": "minmax", "shift": [0.5, -1.0], "scale": [2.0, 4.0]},
           "y": {"method": "none", "shift": None, "scale": None, "n_classes": None, "classes": ["a", "b", "c"]}}
    f = tmp_path / "img.mat"
    export_mat(spec, xnn.init_params(spec), f, preprocess=pre)
    v, _ = read_variables(f)
    assert v["preprocess"]["x_shift"].shape == (1, 1, 2)
    assert import_mat_full(f)[2]["preprocess"] == pre


@pytest.mark.parametrize("field,value,message", [
    ("x_scale", np.array([[1.0], [0.0], [1.0], [1.0], [1.0]]), "preprocess.x_scale: contains 0"),
    ("x_shift", np.array([[1.0], [2.0]]), "preprocess.x_shift: 2 values; the model's input has 5 channels"),
    ("y_shift", np.array([[np.nan], [1.0]]), "preprocess.y_shift: contains NaN or Inf"),
    ("x_method", "zscore", "preprocess.x_method: 'zscore' is not one of"),
    ("n_classes", np.array([[2.5]]), "preprocess.n_classes: must be a positive whole number"),
    ("x_shift", "text", "preprocess.x_shift: not a real numeric array"),
])
def test_preprocess_malformed_is_one_line_error(tmp_path, field, value, message):
    d, spec, params, ds = _regression(tmp_path)
    variables = build_variables(spec, params, preprocess=ds.preprocess.to_dict())
    variables["preprocess"][field] = value
    f = tmp_path / "bad.mat"
    scipy.io.savemat(f, variables, long_field_names=True, oned_as="column")
    with pytest.raises(FormatError, match=message.replace("(", r"\(").replace(")", r"\)")) as e:
        import_mat_full(f)
    assert all("\n" not in m for m in e.value.messages)


def test_preprocess_refused_at_export_when_it_does_not_fit(tmp_path):
    spec = load_spec({"input": {"shape": [3]}, "model": [{"type": "Dense", "units": 2}]})
    pre = {"x": {"method": "standardize", "shift": [0.0, 1.0], "scale": [1.0, 1.0]}, "y": {"method": "none"}}
    with pytest.raises(FormatError, match="x_shift: 2 values; the model's input has 3 channels"):
        export_mat(spec, xnn.init_params(spec), tmp_path / "m.mat", preprocess=pre)


def test_cli_export_mat_and_data_then_import_restores_preprocess(tmp_path, cli):
    d, spec, params, ds = _regression(tmp_path)
    code, out, err = cli("export", d, "--mat", tmp_path / "m.mat", "--data", tmp_path / "test.mat")
    assert code == 0, err
    assert "preprocessing x: standardize, y: standardize" in out and "test samples" in out
    S = scipy.io.loadmat(tmp_path / "test.mat")
    n = len(ds.test[0])
    assert S["x"].shape == (5, n) and str(S["x_format"][0]) == "CB" and S["y"].shape == (2, n)
    # the raw test split: preprocessing it gives xnn.data.load's test split exactly
    np.testing.assert_array_equal(ds.preprocess.apply_x(S["x"].T), ds.test[0])
    code, out, err = cli("import", tmp_path / "m.mat", "--out", tmp_path / "imported")
    assert code == 0, err
    man = json.loads((tmp_path / "imported" / "manifest.json").read_text())
    assert man["preprocess"] == ds.preprocess.to_dict()
    # xnn predict on the raw data file (read through x_format) equals the reference on the test split
    code, out, err = cli("predict", d, "--data", tmp_path / "test.mat", "--out", tmp_path / "p.mat",
                         "--backend", "reference")
    assert code == 0, err
    P = scipy.io.loadmat(tmp_path / "p.mat")
    assert str(P["outputs_format"][0]) == "CB" and P["outputs"].shape == (2, n)
    want = ds.preprocess.inverse_y(forward(spec, params, ds.test[0]))
    np.testing.assert_allclose(P["outputs"].T, want, rtol=1e-13, atol=1e-13)
    code, _, err = cli("export", d, "--data", tmp_path / "test.npz")
    assert code != 0 and "FILE.mat" in err


# ------------------------------------------------------------------ data files (Python)
DATA_SPECS = {
    "image": ({"input": {"shape": [4, 3, 2]}, "model": [{"type": "Conv2D", "filters": 3, "kernel_size": 2},
                                                      {"type": "Flatten"}, {"type": "Dense", "units": 3}]},
              "SSCB", (4, 3, 2, 7)),
    "vector": ({"input": {"shape": [5]}, "model": [{"type": "Dense", "units": 3}]}, "CB", (5, 7)),
    "signal": ({"input": {"shape": [6, 2]}, "model": [{"type": "Conv1D", "filters": 3, "kernel_size": 2},
                                                     {"type": "GlobalAvgPool1D"}, {"type": "Dense", "units": 3}]},
               "SCB", (6, 2, 7)),
    "sequence": ({"input": {"shape": [6, 2]}, "model": [{"type": "LSTM", "units": 3, "output": "last"},
                                                       {"type": "Dense", "units": 3}]}, "CBT", (2, 7, 6)),
}


@pytest.mark.parametrize("kind", sorted(DATA_SPECS))
def test_data_file_layout_round_trip(tmp_path, kind):
    spec_dict, fmt, mat_shape = DATA_SPECS[kind]
    spec = load_spec({**spec_dict, "train": {"loss": "cross_entropy"}})
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, *spec.input_shape))
    y = rng.integers(0, 3, size=7)
    f = write_data(tmp_path / "d.mat", spec, x, y, classes=["a", "b", "c"])
    S = scipy.io.loadmat(f)
    assert S["x"].shape == mat_shape and str(S["x_format"][0]) == fmt
    assert S["y"].shape == (1, 7) and str(S["y_format"][0]) == "CB"  # labels: 1 x N, 0-based
    np.testing.assert_array_equal(S["y"][0], y)
    assert "samples last" in str(S["layout"][0])
    raw = xd.read_any(f, {}, need_y=True)
    np.testing.assert_array_equal(raw.x, x)
    np.testing.assert_array_equal(raw.y, y)
    xs, ys = xd.read_file(f, spec, need_y=True)
    np.testing.assert_array_equal(xs, x.astype(spec.train.dtype))
    # sample_axis may be given where it agrees with the stated order, and refuses a contradiction
    if fmt.endswith("B"):
        assert xd.read_any(f, {"sample_axis": "last"}, need_y=True).x.shape == x.shape
    with pytest.raises(DataError, match="x_format is .* which data.options.sample_axis: first contradicts"):
        xd.read_any(f, {"sample_axis": "first"}, need_y=True)


def test_data_file_without_format_keeps_sample_axis(tmp_path):
    x = np.arange(24.0).reshape(6, 4)
    scipy.io.savemat(tmp_path / "plain.mat", {"x": x.T})
    assert xd.read_any(tmp_path / "plain.mat", {"sample_axis": "last"}, need_y=False).x.shape == (6, 4)
    assert xd.read_any(tmp_path / "plain.mat", {}, need_y=False).x.shape == (4, 6)


def test_data_file_trailing_singletons_and_bad_formats(tmp_path):
    """MATLAB drops trailing singleton dims (one sample, one time step); unknown formats refused."""
    x = np.arange(12.0).reshape(1, 4, 3, 1)  # one 4x3x1 image: MATLAB stores it as 4 x 3
    np.testing.assert_array_equal(from_matlab(to_matlab(x, "SSCB")[:, :, 0, 0], "SSCB", "x"), x)
    seq = np.arange(6.0).reshape(3, 1, 2)  # 3 sequences of one step: F x N (x 1)
    np.testing.assert_array_equal(from_matlab(to_matlab(seq, "CBT")[:, :, 0], "CBT", "x"), seq)
    for bad in ("BC", "SSBC", "CBTT", "'; drop", ""):
        scipy.io.savemat(tmp_path / "b.mat", {"x": np.zeros((3, 4)), "x_format": bad})
        with pytest.raises(DataError, match="x_format"):
            xd.read_any(tmp_path / "b.mat", {}, need_y=False)
    scipy.io.savemat(tmp_path / "b.mat", {"x": np.zeros((3, 4)), "x_format": np.zeros(3)})
    with pytest.raises(DataError, match="x_format: must be a short char row"):
        xd.read_any(tmp_path / "b.mat", {}, need_y=False)
    scipy.io.savemat(tmp_path / "b.mat", {"x": np.zeros((3, 4, 5)), "x_format": "CB"})
    with pytest.raises(DataError, match="3 dimensions"):
        xd.read_any(tmp_path / "b.mat", {}, need_y=False)


def test_data_file_v73_format(tmp_path):
    pytest.importorskip("h5py")
    from xnn.interop.mat.hdf5 import write_v73

    x = np.random.default_rng(1).normal(size=(5, 4, 3, 2))  # samples first
    write_v73(tmp_path / "d73.mat", {"x": to_matlab(x, "SSCB"), "x_format": "SSCB"})
    np.testing.assert_array_equal(xd.read_any(tmp_path / "d73.mat", {}, need_y=False).x, x)


# ------------------------------------------------------------------ eps (Python)
def _norm_models():
    rng = np.random.default_rng(7)
    bn = load_spec({"name": "bn", "input": {"shape": [5, 4, 3]}, "model": [
        {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same", "name": "conv"},
        {"type": "BatchNorm", "name": "bn"}, {"type": "relu", "name": "r"},
        {"type": "GlobalAvgPool2D", "name": "gap"}, {"type": "Dense", "units": 3, "name": "fc"}],
        "train": {"loss": "cross_entropy", "dtype": "float32"}})
    p = xnn.init_params(bn, 1)
    p["bn.running_mean"] = rng.normal(size=4) * 0.3
    p["bn.running_var"] = rng.uniform(0.5, 4.0, size=4)  # stats as training leaves them
    p["bn.weight"], p["bn.bias"] = rng.uniform(0.5, 2, size=4), rng.normal(size=4) * 0.1
    ln = load_spec({"name": "ln", "input": {"shape": [6, 4]}, "model": [
        {"type": "Dense", "units": 5, "name": "proj"}, {"type": "LayerNorm", "name": "ln"},
        {"type": "Dense", "units": 2, "name": "fc"}], "train": {"loss": "mse", "metrics": [], "dtype": "float64"}})
    return [(bn, p, "BatchNorm"), (ln, xnn.init_params(ln, 2), "LayerNorm")]


def _without_eps(spec):
    raw = json.loads(json.dumps(spec.raw))
    for layer in raw["model"]:
        if layer["type"] in ("BatchNorm", "LayerNorm"):
            layer["eps"] = 1e-30  # var + 1e-30 == var in float64: the formula without eps
    return load_spec(raw)


@pytest.mark.parametrize("i", [0, 1], ids=["BatchNorm", "LayerNorm"])
def test_missing_eps_exceeds_the_documented_tolerance(tmp_path, i):
    """On the stored reference data, a forward without eps is off by far more than xnn.compare's
    tolerance (rel <= 1e-10), while the right formula reproduces it to ~1e-15."""
    spec, params, _ = _norm_models()[i]
    f = tmp_path / "m.mat"
    export_mat(spec, params, f)
    v, _ = read_variables(f)
    _, stored, _ = import_mat_full(f)
    from xnn.interop.mat.layouts import build_context, from_dlarray_order, to_dlarray_order

    ctx = build_context(spec)
    x = from_dlarray_order(v["ref_input"], ctx.formats["input"])
    good = to_dlarray_order(forward(spec, stored, x), v["output_format"])
    bad = to_dlarray_order(forward(_without_eps(spec), stored, x), v["output_format"])
    assert _rel(good, v["ref_output"]) <= 1e-14
    assert _rel(bad, v["ref_output"]) > 100 * COMPARE_REL_TOL, _rel(bad, v["ref_output"])


# ------------------------------------------------------------------ Octave
def _octave_line(out: str, tag: str = "XNNRESULT") -> list[str]:
    line = next(x for x in out.splitlines() if x.startswith(tag))
    return line.split("\t")[1:]


@needs_octave
def test_octave_preprocess_round_trip(tmp_path, cli):
    """Raw data -> xnn.predict(..., 'preprocess', true) in Octave == xnn predict RUN (float64, 1e-12);
    compare with preprocess on passes; a file saved by Octave keeps the preprocessing for import."""
    d, spec, params, ds = _regression(tmp_path)
    for args in (("export", d, "--mat", tmp_path / "m.mat", "--data", tmp_path / "test.mat"),
                 ("predict", d, "--data", tmp_path / "test.mat", "--out", tmp_path / "p.mat", "--backend", "reference")):
        code, _, err = cli(*args)
        assert code == 0, err
    export_mat(spec, params, tmp_path / "old.mat")  # no preprocess variable (exported from a spec)
    code = HEAD + (
        f"m = xnn.load('{tmp_path / 'm.mat'}'); S = load('{tmp_path / 'test.mat'}'); P = load('{tmp_path / 'p.mat'}');\n"
        "Y = xnn.predict(m, S.x, 'preprocess', true, 'format', S.x_format);\n"
        "r = max(abs(Y(:) - P.outputs(:))) / max(1, max(abs(P.outputs(:))));\n"
        "[ok1, ~, r1] = xnn.compare(m); [ok2, ~, r2] = xnn.compare(m, 'preprocess', true);\n"
        "lastwarn(''); Y0 = xnn.predict(m, S.x); [msg, id] = lastwarn();\n"
        "d0 = max(abs(Y0(:) - P.outputs(:)));\n"
        "fprintf('XNNRESULT\\t%.3e\\t%d\\t%d\\t%.3e\\t%s\\t%.3e\\n', r, ok1, ok2, r2, id, d0);\n"
        f"xnn.save(m, '{tmp_path / 'saved.mat'}');\n"
        f"o = xnn.load('{tmp_path / 'old.mat'}'); [ok3] = xnn.compare(o);\n"
        "try, xnn.predict(o, S.x, 'preprocess', true); e = 'none'; catch err, e = err.message; end\n"
        "fprintf('XNNOLD\\t%d\\t%s\\n', ok3, e);\n")
    out = run_octave(code, tmp_path)
    r, ok1, ok2, r2, wid, d0 = _octave_line(out)
    assert float(r) <= 1e-12, out
    assert ok1 == "1" and ok2 == "1" and float(r2) <= COMPARE_REL_TOL, out
    assert wid == "xnn:predict:preprocess" and float(d0) > 1e-3  # raw data without preprocessing: warned, and wrong
    ok3, e = _octave_line(out, "XNNOLD")
    assert ok3 == "1" and "holds no preprocessing" in e, out
    _, back, info = import_mat_full(tmp_path / "saved.mat")
    assert info["preprocess"] == ds.preprocess.to_dict()
    assert all(np.array_equal(back[k], params[k]) for k in params)


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    """digits_cnn trained for two epochs (about 20 s): a real image model with minmax preprocessing."""
    pytest.importorskip("torch")
    from xnn.cli import main

    d = tmp_path_factory.mktemp("digits") / "run"
    assert main(["train", str(ROOT / "examples" / "digits_cnn.yaml"), "--out", str(d), "--set", "train.epochs=2"]) == 0
    return d


@needs_octave
def test_octave_image_model_predicts_from_a_written_data_file(tmp_path, cli, digits_run):
    """xnn export --data writes the test images H x W x C x N; Octave's xnn.predict on them (raw,
    'preprocess' true) gives xnn's own labels and test accuracy. The column-major reshape of flat
    rows (the issue's trap) scrambles the pixels; xnn.fromRows does not."""
    for args in (("export", digits_run, "--mat", tmp_path / "m.mat", "--data", tmp_path / "test.mat"),
                 ("predict", digits_run, "--data", tmp_path / "test.mat", "--out", tmp_path / "p.mat",
                  "--output", "labels", "--backend", "reference")):
        code, _, err = cli(*args)
        assert code == 0, err
    S = scipy.io.loadmat(tmp_path / "test.mat")
    assert S["x"].shape[:3] == (8, 8, 1) and str(S["x_format"][0]) == "SSCB"
    rows = np.ascontiguousarray(S["x"].transpose(3, 0, 1, 2)).reshape(S["x"].shape[3], -1)  # numpy's x.reshape(N, -1)
    scipy.io.savemat(tmp_path / "rows.mat", {"R": rows})
    acc = json.loads((digits_run / "metrics.json").read_text())["test"]["accuracy"]
    code = HEAD + (
        f"m = xnn.load('{tmp_path / 'm.mat'}'); S = load('{tmp_path / 'test.mat'}'); P = load('{tmp_path / 'p.mat'}');\n"
        f"Q = load('{tmp_path / 'rows.mat'}');\n"
        "Y = xnn.predict(m, S.x, 'preprocess', true); [~, k] = max(Y, [], 1);\n"
        "X2 = xnn.fromRows(m, Q.R); [~, k2] = max(xnn.predict(m, X2, 'preprocess', true), [], 1);\n"
        "Xw = reshape(Q.R, [], 8, 8, 1); Xw = permute(Xw, [2 3 4 1]);\n"
        "[~, kw] = max(xnn.predict(m, Xw, 'preprocess', true), [], 1);\n"
        "fprintf('XNNRESULT\\t%d\\t%.6f\\t%d\\t%.6f\\t%d\\n', isequal(k - 1, P.labels), mean(k - 1 == S.y), "
        "isequal(k2, k), mean(kw - 1 == S.y), isequal(X2, S.x));\n")
    same, oct_acc, rows_ok, wrong_acc, x_same = _octave_line(run_octave(code, tmp_path))
    assert same == "1" and rows_ok == "1" and x_same == "1"
    assert abs(float(oct_acc) - acc) < 1e-6 and acc > 0.8, (oct_acc, acc)
    assert float(wrong_acc) < acc - 0.2, wrong_acc  # the trap: a silent, large drop


@needs_octave
def test_octave_data_file_round_trip_both_ways(tmp_path):
    """Python writes H x W x C x N, Octave sees exactly those subscripts; Octave writes a data file
    with x_format (one sample: MATLAB drops the trailing singleton) and Python reads it back."""
    spec = load_spec(DATA_SPECS["image"][0])
    x = np.random.default_rng(5).normal(size=(3, *spec.input_shape))
    write_data(tmp_path / "d.mat", spec, x)
    code = HEAD + (
        f"S = load('{tmp_path / 'd.mat'}');\n"
        "fprintf('XNNRESULT\\t%s\\t%s\\t%.17g\\n', num2str(size(S.x)), S.x_format, S.x(2, 3, 1, 3));\n"
        "x = S.x(:, :, :, 2); x_format = 'SSCB';\n"
        f"save('-v7', '{tmp_path / 'one.mat'}', 'x', 'x_format');\n")
    size_, fmt, v = _octave_line(run_octave(code, tmp_path))
    assert size_.split() == ["4", "3", "2", "3"] and fmt == "SSCB"
    assert float(v) == x[2, 1, 2, 0]  # MATLAB (2, 3, 1, 3) = xnn sample 3, h 2, w 3, c 1 (1-based)
    back = xd.read_any(tmp_path / "one.mat", {}, need_y=False).x
    np.testing.assert_array_equal(back, x[1:2])


@needs_octave
def test_octave_compare_fails_without_eps(tmp_path):
    """xnn.compare PASSes the stored BatchNorm / LayerNorm models and FAILs the same models with
    eps set to 0 in the decoded fields (a reader that forgot eps)."""
    lines = []
    for spec, params, kind in _norm_models():
        f = tmp_path / f"{kind}.mat"
        export_mat(spec, params, f)
        lines.append(
            f"m = xnn.load('{f}'); [ok, ~, r] = xnn.compare(m);\n"
            "for i = 1:numel(m.layers), if isfield(m.layers{i}.fields, 'eps'), m.layers{i}.fields.eps = 0; end, end\n"
            f"[ok0, ~, r0] = xnn.compare(m); fprintf('XNNRESULT\\t{kind}\\t%d\\t%.3e\\t%d\\t%.3e\\n', ok, r, ok0, r0);\n")
    out = run_octave(HEAD + "".join(lines), tmp_path)
    rows = [x.split("\t")[1:] for x in out.splitlines() if x.startswith("XNNRESULT")]
    assert len(rows) == 2, out
    for kind, ok, r, ok0, r0 in rows:
        assert ok == "1" and float(r) <= 1e-14, (kind, r)
        assert ok0 == "0" and float(r0) > 100 * COMPARE_REL_TOL, (kind, r0)


@needs_octave
def test_octave_matlab_compare_example_from_another_folder(tmp_path):
    """examples/matlab_compare.m finds +xnn itself: run() with an absolute file, or the examples
    folder on the path with a relative one, from a folder that is neither the repo nor the model's;
    a relative file under run() stops with a message that says what to do."""
    d, spec, params, ds = _regression(tmp_path)
    models = tmp_path / "models"
    models.mkdir()
    export_mat(spec, params, models / "model.mat", preprocess=ds.preprocess.to_dict())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = ROOT / "examples" / "matlab_compare.m"
    code = (f"file = '{models / 'model.mat'}'; run('{script}');\n"
            "fprintf('XNNRESULT\\t%s\\n', pwd);\n"
            f"clear file; addpath('{ROOT / 'examples'}'); cd('{models}'); file = 'model.mat'; matlab_compare;\n"
            f"cd('{elsewhere}'); file = 'model.mat';\n"
            f"try, run('{script}'); catch err, fprintf('XNNERR\\t%s\\n', err.message); end\n")
    out = run_octave(code, elsewhere)
    assert out.count("xnn.compare reg") == 4 and out.count(": PASS") == 4, out
    assert "raw inputs, preprocess on" in out
    assert _octave_line(out)[0] == str(elsewhere)  # run() went back to the caller's folder
    err = _octave_line(out, "XNNERR")[0]
    assert "no file model.mat" in err and "absolute path" in err, err


# ------------------------------------------------------------------ the format page
def test_mat_format_page_has_an_entry_for_every_kind():
    """docs/mat-format.md states each layer's fields and forward semantics for a reader of the
    file: every registered kind has a short entry under "Layer semantics" (composites, which a
    file never holds, are listed as such). A new kind needs its entry there."""
    import re

    from xnn.spec import layers

    text = (ROOT / "docs" / "mat-format.md").read_text()
    section = text[text.index("## Layer semantics"):text.index("## Weight layouts")]
    heads = " ".join(re.findall(r"^### (.+)$", section, re.M))
    composites = section[section.index("**Composites**"):]
    missing = [k for k, c in sorted(layers().items())
               if not re.search(rf"\b{k}\b", composites if hasattr(c, "expand") else heads)]
    assert not missing, f"docs/mat-format.md, Layer semantics: no entry for {missing}"
