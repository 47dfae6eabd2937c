"""predict and evaluate on a run folder; bad input files give one-line errors and change nothing."""
import json

import numpy as np
import pytest
import scipy.io

import xnn
import xnn.data as xd
from xnn.fileio import write_json, write_text

from .conftest import EXAMPLES, run_xnn


@pytest.fixture
def run_dir(tmp_path):
    """A run folder as ``xnn train`` writes it, with initial weights (no training needed)."""
    spec = xnn.load_spec(EXAMPLES / "iris_mlp.yaml")
    d = tmp_path / "run"
    d.mkdir()
    write_text(d / "spec.yaml", spec.to_yaml())
    params = {k: v.astype(np.float32) for k, v in xnn.init_params(spec, 0).items()}
    xnn.save_weights(d / "weights.safetensors", params)
    ds = xd.load(spec)
    write_json(d / "manifest.json", {"backend": "torch", "preprocess": ds.preprocess.to_dict()})
    return d, spec, params, ds


def _raw_iris(n=12, seed=0):
    from sklearn.datasets import load_iris

    d = load_iris()
    idx = np.random.default_rng(seed).permutation(150)[:n]
    return d.data[idx], d.target[idx]


def _expected(spec, params, ds, x_raw):
    x = ds.preprocess.apply_x(x_raw.astype(np.float32))
    return xnn.reference_forward(spec, params, x)


def test_predict_npz_matches_the_reference(cli, run_dir, tmp_path):
    d, spec, params, ds = run_dir
    x, _ = _raw_iris()
    data = tmp_path / "in.npz"
    np.savez(data, x=x)
    code, out, err = cli("predict", d, "--data", data, "--backend", "reference")
    assert code == 0, err
    res = np.load(tmp_path / "in_pred.npz", allow_pickle=False)
    want = _expected(spec, params, ds, x)
    np.testing.assert_allclose(res["outputs"], want, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(res["labels"], want.argmax(-1))


def test_predict_torch_backend_and_formats(cli, run_dir, tmp_path):
    pytest.importorskip("torch")
    d, spec, params, ds = run_dir
    x, _ = _raw_iris()
    data = tmp_path / "in.csv"
    data.write_text("a,b,c,d\n" + "\n".join(",".join(map(str, r)) for r in x) + "\n")
    want = _expected(spec, params, ds, x)
    for suffix in (".npz", ".npy", ".csv", ".mat"):
        out = tmp_path / f"pred{suffix}"
        code, _, err = cli("predict", d, "--data", data, "--out", out)  # default backend: the run's (torch)
        assert code == 0, err
        if suffix == ".npz":
            got = np.load(out, allow_pickle=False)["outputs"]
        elif suffix == ".npy":
            got = np.load(out, allow_pickle=False)
        elif suffix == ".mat":
            m = scipy.io.loadmat(out)  # MATLAB's order, samples last (docs/mat-format.md, "Data files")
            assert str(m["outputs_format"][0]) == "CB" and m["labels"].shape == (1, len(want))
            got = m["outputs"].T
            np.testing.assert_array_equal(m["labels"].ravel(), want.argmax(-1))
        else:
            lines = out.read_text().splitlines()
            assert lines[0].startswith("label,class,output_0")
            assert lines[1].split(",")[1] in ("setosa", "versicolor", "virginica")
            got = np.array([[float(v) for v in ln.split(",")[2:]] for ln in lines[1:]])
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_predict_keras_matches_torch(run_dir, tmp_path):
    pytest.importorskip("keras")
    d, spec, params, ds = run_dir
    x, _ = _raw_iris()
    data = tmp_path / "in.npz"
    np.savez(data, x=x)
    r = run_xnn("predict", d, "--data", data, "--out", tmp_path / "k.npz", "--backend", "keras")
    assert r.returncode == 0, r.stderr
    got = np.load(tmp_path / "k.npz", allow_pickle=False)["outputs"]
    np.testing.assert_allclose(got, _expected(spec, params, ds, x), rtol=1e-4, atol=1e-5)


def test_predict_never_overwrites_the_input(cli, run_dir, tmp_path):
    d, *_ = run_dir
    x, _ = _raw_iris()
    data = tmp_path / "in.npz"
    np.savez(data, x=x)
    before = data.read_bytes()
    code, out, err = cli("predict", d, "--data", data, "--out", data, "--backend", "reference")
    assert code == 2 and "is the input file" in err and len(err.strip().splitlines()) == 1
    assert data.read_bytes() == before


@pytest.mark.parametrize("problem", ["shape", "nan", "missing_key", "truncated", "pickle", "missing_file"])
def test_predict_bad_input_one_line_error_nothing_written(cli, run_dir, tmp_path, problem):
    d, *_ = run_dir
    x, _ = _raw_iris()
    data = tmp_path / "in.npz"
    if problem == "shape":
        np.savez(data, x=np.zeros((5, 3)))
    elif problem == "nan":
        x[2, 1] = np.nan
        np.savez(data, x=x)
    elif problem == "missing_key":
        np.savez(data, inputs=x)
    elif problem == "truncated":
        np.savez(data, x=x)
        data.write_bytes(data.read_bytes()[:40])
    elif problem == "pickle":
        o = np.empty(3, dtype=object)
        np.savez(data, x=o)
    out = tmp_path / "pred.npz"
    code, stdout, err = cli("predict", d, "--data", data, "--out", out, "--backend", "reference")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {data}")
    assert {"shape": "x: samples have shape [3]", "nan": "x: contains NaN or Inf", "missing_key": "x: no such array",
            "truncated": "not a readable .npz", "pickle": "x: holds Python objects",
            "missing_file": "no such file"}[problem] in lines[0]
    assert not out.exists() and not list(tmp_path.glob(".pred.npz*"))


def test_evaluate_default_test_split_and_file(cli, run_dir, tmp_path):
    d, spec, params, ds = run_dir
    code, out, err = cli("evaluate", d, "--backend", "reference", "--json")
    assert code == 0, err
    m = json.loads(out)
    x, y = ds.test
    from xnn.train.losses import evaluate_outputs

    want = evaluate_outputs(spec.train, xnn.reference_forward(spec, params, x), y)
    assert m["n"] == len(x) and m["data"] == "test split"
    assert m["accuracy"] == pytest.approx(want["accuracy"]) and m["loss"] == pytest.approx(want["loss"], rel=1e-6)
    # a .mat file with 1-based-looking column labels is read as given (0-based here)
    xr, yr = _raw_iris(30)
    mat = tmp_path / "eval.mat"
    scipy.io.savemat(mat, {"x": xr, "y": yr.reshape(-1, 1).astype(float)})
    code, out, err = cli("evaluate", d, "--data", mat, "--backend", "reference")
    assert code == 0, err
    assert "30 samples" in out and "accuracy" in out


def test_evaluate_bad_labels(cli, run_dir, tmp_path):
    d, *_ = run_dir
    xr, yr = _raw_iris(30)
    bad = tmp_path / "e.npz"
    np.savez(bad, x=xr, y=yr + 1)  # labels 1..3 for a 3-class model
    code, _, err = cli("evaluate", d, "--data", bad, "--backend", "reference")
    assert code == 2 and "label 3 out of range 0..2" in err and len(err.strip().splitlines()) == 1
    np.savez(bad, x=xr)
    code, _, err = cli("evaluate", d, "--data", bad, "--backend", "reference")
    assert code == 2 and f"{bad}: y: no such array" in err


def test_evaluate_missing_run(cli, tmp_path):
    code, _, err = cli("evaluate", tmp_path / "nothing")
    assert code == 2 and "no such run folder" in err


def test_predict_output_probabilities_and_labels(cli, run_dir, tmp_path):
    d, spec, params, ds = run_dir
    x, _ = _raw_iris()
    data = tmp_path / "in.npz"
    np.savez(data, x=x)
    want = _expected(spec, params, ds, x).astype(np.float64)
    code, _, err = cli("predict", d, "--data", data, "--backend", "reference", "--output", "probabilities",
                       "--out", tmp_path / "p.npz")
    assert code == 0, err
    res = np.load(tmp_path / "p.npz", allow_pickle=False)
    e = np.exp(want - want.max(-1, keepdims=True))
    np.testing.assert_allclose(res["outputs"], e / e.sum(-1, keepdims=True), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(res["outputs"].sum(-1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(res["labels"], want.argmax(-1))
    code, _, err = cli("predict", d, "--data", data, "--backend", "reference", "--output", "labels",
                       "--out", tmp_path / "l.csv")
    assert code == 0, err
    lines = (tmp_path / "l.csv").read_text().splitlines()
    assert lines[0].split(",")[0] == "label" and not any(h.startswith("output_") for h in lines[0].split(","))
    assert [int(r.split(",")[0]) for r in lines[1:]] == want.argmax(-1).tolist()


def test_predict_accepts_a_csv_with_its_target_column(cli, run_dir, tmp_path):
    d, spec, params, ds = run_dir
    x, y = _raw_iris()
    data = tmp_path / "labeled.csv"
    rows = ["a,b,c,d,species"] + [",".join([*map(repr, map(float, r)), str(int(t))]) for r, t in zip(x, y)]
    data.write_text("\n".join(rows) + "\n")
    code, _, err = cli("evaluate", d, "--data", data, "--backend", "reference")
    assert code == 0, err  # what evaluate reads ...
    code, _, err = cli("predict", d, "--data", data, "--backend", "reference", "--out", tmp_path / "o.npz")
    assert code == 0, err  # ... predict reads too
    res = np.load(tmp_path / "o.npz", allow_pickle=False)
    np.testing.assert_allclose(res["outputs"], _expected(spec, params, ds, x), rtol=1e-5, atol=1e-6)


def test_predict_refuses_probabilities_for_regression(cli, tmp_path):
    spec = xnn.load_spec(EXAMPLES / "regression_mlp.yaml")
    d = tmp_path / "run"
    d.mkdir()
    write_text(d / "spec.yaml", spec.to_yaml())
    xnn.save_weights(d / "weights.safetensors", {k: v.astype(np.float32) for k, v in xnn.init_params(spec, 0).items()})
    write_json(d / "manifest.json", {"backend": "torch", "preprocess": xd.load(spec).preprocess.to_dict()})
    data = tmp_path / "in.npy"
    np.save(data, np.zeros((2, *spec.input_shape), np.float32))
    code, _, err = cli("predict", d, "--data", data, "--output", "probabilities", "--backend", "reference")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "needs a classification run" in err


@pytest.mark.parametrize("backend", ["torch", "keras"])
def test_predict_device_the_backend_lacks_is_one_line(run_dir, tmp_path, backend):
    d, spec, params, ds = run_dir
    data = tmp_path / "in.npz"
    np.savez(data, x=_raw_iris()[0])
    r = run_xnn("predict", d, "--data", data, "--backend", backend, "--device", "cuda:99")
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--device cuda:99" in lines[0] and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "in_pred.npz").exists()
    r = run_xnn("predict", d, "--data", data, "--backend", backend, "--device", "tpu")
    assert r.returncode == 2 and "must be cpu, cuda or cuda:N" in r.stderr
