#!/usr/bin/env bash
# Installs xnn with every backend and test dependency into the active Python environment,
# and GNU Octave (for the MATLAB-path tests) and chromium (the report rendering test) when apt-get is
# available and they are missing.
# CPU builds: torch 2.13.0 first (a plain `torch` requirement would pull a multi-GB CUDA build),
# tensorflow-cpu for the Keras backend.
set -euo pipefail
cd "$(dirname "$0")/.."
PIP="python -m pip"
$PIP install -q --upgrade pip
$PIP install -q "torch==2.13.0" || $PIP install -q "torch>=2.3"
$PIP install -q tensorflow-cpu "keras>=3.3" "onnx>=1.15" "onnxruntime>=1.17" onnxscript tf2onnx h5py matplotlib
# onnx2torch without its torchvision dependency (used only by its NMS/RoIAlign converters; it
# would pull another torch build): the tests put a stand-in torchvision on sys.path
$PIP install -q --no-deps "onnx2torch>=1.5"
$PIP install -q -e ".[test]"
if ! command -v octave-cli >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq octave >/dev/null) \
      || echo "warning: GNU Octave could not be installed; the Octave path tests will be skipped" >&2
  else
    echo "warning: octave-cli not found and apt-get unavailable; the Octave path tests will be skipped" >&2
  fi
fi
# headless chromium: tests/cli/test_report.py renders xnn report's HTML in a real browser (skipped without it)
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: chromium could not be installed; the report rendering test will be skipped" >&2
fi
python -c "import xnn, torch, tensorflow, keras, onnx, onnxruntime; print('xnn', xnn.__version__, '| torch', torch.__version__, '| tf', tensorflow.__version__, '| keras', keras.__version__, '| onnx', onnx.__version__, '| ort', onnxruntime.__version__)"
