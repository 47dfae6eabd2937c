"""The plain-M package matlab/+xnn in a real GNU Octave: every layer case and every example spec
is exported to .mat and checked by xnn.load + xnn.compare in ONE octave-cli call; weights changed
and saved in Octave come back through import_mat.
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.parity.harness import all_cases, case_input, case_spec
from xnn.init import init_params
from xnn.interop.mat import export_mat, import_mat
from xnn.spec import load_spec

ROOT = Path(__file__).resolve().parents[2]
MATLAB_DIR = ROOT / "matlab"
OCTAVE = shutil.which("octave-cli")
# the plain-M forward runs in double on the very numbers stored in the file, so it must agree
# with the float64 reference far below xnn.compare's own float32-scale tolerance (1e-4)
TIGHT_REL = 1e-9

pytestmark = pytest.mark.skipif(OCTAVE is None, reason="GNU Octave (octave-cli) is not installed")

RUNNER = r"""
warning('off', 'all');  % +xnn/load.m and save.m shadow builtins by design: Octave warns about it
addpath('@MATLAB@');
fid = fopen('@MANIFEST@', 'r');
while true
  line = fgetl(fid);
  if ~ischar(line), break; end
  parts = strsplit(line, sprintf('\t'));
  id = parts{1}; file = parts{2};
  try
    m = xnn.load(file);
    [ok, a, r] = xnn.compare(m);
    fprintf('XNNRESULT\t%s\t%d\t%.6e\t%.6e\n', id, ok, a, r);
  catch err
    fprintf('XNNRESULT\t%s\tERROR\t%s\n', id, strrep(err.message, sprintf('\n'), ' '));
  end
end
fclose(fid);
"""


def run_octave(code: str, cwd: Path, timeout: int = 900) -> str:
    """Run M code in one octave-cli process; fail on a non-zero exit. Returns stdout."""
    script = cwd / "xnn_octave_job.m"
    script.write_text(code)
    proc = subprocess.run([OCTAVE, "--no-gui", "--quiet", "--no-window-system", str(script)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)
    # Octave 7 may print this at exit while returning 0: the only line we ignore
    err = "\n".join(x for x in proc.stderr.splitlines()
                    if "ignoring const execution_exception" not in x and not x.startswith("warning:"))
    assert proc.returncode == 0, f"octave-cli exited {proc.returncode}:\n{err[-3000:]}\n{proc.stdout[-2000:]}"
    return proc.stdout


def _jobs(tmp: Path) -> list[tuple[str, Path]]:
    jobs = []
    for kind, case, cid in all_cases():
        for dtype in ("float64", "float32"):
            spec = case_spec(kind, case, dtype=dtype)
            params = init_params(spec, seed=1)
            path = tmp / f"{cid}-{dtype}.mat".replace("/", "_")
            export_mat(spec, params, path, ref_input=case_input(spec, case), compress=dtype == "float32")
            jobs.append((f"{cid}-{dtype}", path))
    for ex in sorted((ROOT / "examples").glob("*.yaml")):
        spec = load_spec(ex)
        path = tmp / f"example-{ex.stem}.mat"
        export_mat(spec, init_params(spec), path, n_ref=3, seed=2)
        jobs.append((f"example-{ex.stem}", path))
    return jobs


def test_octave_compare_every_case_and_example(tmp_path):
    jobs = _jobs(tmp_path)
    manifest = tmp_path / "manifest.tsv"
    manifest.write_text("".join(f"{i}\t{p}\n" for i, p in jobs))
    out = run_octave(RUNNER.replace("@MATLAB@", str(MATLAB_DIR)).replace("@MANIFEST@", str(manifest)), tmp_path)
    results = {}
    for line in out.splitlines():
        if line.startswith("XNNRESULT\t"):
            parts = line.split("\t")
            results[parts[1]] = parts[2:]
    problems = []
    for i, _ in jobs:
        r = results.get(i)
        if r is None:
            problems.append(f"{i}: no result line")
        elif r[0] == "ERROR":
            problems.append(f"{i}: error: {r[1] if len(r) > 1 else ''}")
        elif r[0] != "1" or not float(r[2]) <= TIGHT_REL:
            problems.append(f"{i}: compare ok={r[0]}, max abs {r[1]}, rel {r[2]}")
    assert not problems, f"{len(problems)} of {len(jobs)} failed:\n" + "\n".join(problems)


def test_octave_detects_wrong_weights(tmp_path):
    """The check can fail: a .mat whose weights were changed after export no longer compares."""
    kind, case, cid = next(c for c in all_cases() if c[0] == "Conv2D")
    spec = case_spec(kind, case)
    params = init_params(spec, seed=1)
    path = tmp_path / "conv.mat"
    export_mat(spec, params, path, ref_input=case_input(spec, case))
    code = (f"warning('off', 'all'); addpath('{MATLAB_DIR}');\n"
            f"m = xnn.load('{path}');\n"
            "m.layers{1}.weights.Weights = permute(m.layers{1}.weights.Weights, [2 1 3 4]);\n"
            "[ok, a, r] = xnn.compare(m); fprintf('XNNRESULT\\t%d\\t%.6e\\n', ok, r);\n")
    line = next(x for x in run_octave(code, tmp_path).splitlines() if x.startswith("XNNRESULT"))
    ok, rel = line.split("\t")[1:]
    assert ok == "0" and float(rel) > 1e-3


def test_octave_save_roundtrip_changed_weights(tmp_path):
    """Weights changed in Octave and written by xnn.save import back exactly (MATLAB layouts undone)."""
    spec = load_spec({"input": {"shape": [6, 5, 3]}, "model": [
        {"type": "Conv2D", "filters": 4, "kernel_size": 3, "padding": "same", "groups": 1, "name": "c1"},
        {"type": "BatchNorm", "name": "bn"},
        {"type": "Conv2D", "filters": 4, "kernel_size": 2, "groups": 2, "strides": 2, "padding": "same", "name": "c2"},
        {"type": "Flatten", "name": "fl"},
        {"type": "Dense", "units": 3, "name": "fc"}], "train": {"loss": "mse", "metrics": []}})
    params = init_params(spec, seed=4)
    src, dst = tmp_path / "in.mat", tmp_path / "out.mat"
    export_mat(spec, params, src)
    # Octave: scale every stored weight by 2 and add 1 to one entry of fc's Weights (MATLAB layout)
    code = (f"warning('off', 'all'); addpath('{MATLAB_DIR}');\n"
            f"m = xnn.load('{src}');\n"
            "for i = 1:numel(m.layers)\n"
            "  w = m.layers{i}.weights; f = fieldnames(w);\n"
            "  for j = 1:numel(f), w.(f{j}) = w.(f{j}) * 2; end\n"
            "  m.layers{i}.weights = w;\n"
            "end\n"
            "m.layers{5}.weights.Weights(2, 7) = m.layers{5}.weights.Weights(2, 7) + 1;\n"
            f"xnn.save(m, '{dst}');\n"
            f"m2 = xnn.load('{dst}'); disp(class(m2.layers{{5}}.weights.Weights));\n")
    out = run_octave(code, tmp_path)
    assert "single" in out  # Octave kept the model's dtype (float32)
    spec_dict, back = import_mat(dst)
    assert spec_dict == spec.raw
    from xnn.interop.mat import layouts

    ctx = layouts.build_context(spec)
    want = {k: (np.asarray(v, np.float32) * np.float32(2)) for k, v in params.items()}
    # the +1 was at MATLAB column 7 (1-based) of a column-major-permuted Dense: map it back
    from xnn.interop.mat.layers.dense import column_perm

    perm = column_perm(spec.node_map["fc"], ctx)
    want["fc.weight"][1, perm[6]] += np.float32(1)
    for k in want:
        assert back[k].dtype == np.float32
        np.testing.assert_array_equal(back[k], want[k], err_msg=k)
    assert json.loads(json.dumps(spec_dict)) == spec.raw


def test_octave_example_script_and_toolbox_errors(tmp_path):
    """examples/matlab_compare.m runs end to end in Octave; the toolbox bridge stops with a clear error."""
    spec = load_spec(ROOT / "examples" / "digits_cnn.yaml") if (ROOT / "examples" / "digits_cnn.yaml").exists() \
        else load_spec({"input": {"shape": [4]}, "model": [{"type": "Dense", "units": 2}]})
    export_mat(spec, init_params(spec), tmp_path / "model.mat")
    code = (f"addpath('{MATLAB_DIR}'); file = '{tmp_path / 'model.mat'}';\n"
            f"run('{ROOT / 'examples' / 'matlab_compare.m'}');\n"
            "try, xnn.toDlnetwork(model); disp('XNNRESULT built');\n"
            "catch err, fprintf('XNNRESULT %s\\n', err.message); end\n")
    out = run_octave(code, tmp_path)
    assert ": PASS" in out, out
    assert "skipped xnn.toDlnetwork" in out, out
    line = next(x for x in out.splitlines() if x.startswith("XNNRESULT"))
    assert "needs MATLAB with Deep Learning Toolbox" in line, line
