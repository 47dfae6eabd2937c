"""A layer is its own files only: one file per kind, named ``kind.lower()``, in every tree.

The trees (docs/architecture.md, "Adding a layer"): the spec layer, the torch and Keras
lowerings, the ONNX export mapping, the .mat layout (only for kinds with weights or notes), the
plain-M forward and the MATLAB toolbox mapping. Composites (``expand``) have only the first.
No central table lists kinds: this test fails when a tree lacks a kind, holds a file for no
kind, or a file holds another kind's code.
"""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from tests.parity.harness import all_cases, case_spec
from xnn.spec import layers

ROOT = Path(__file__).resolve().parents[2]
KINDS = layers()
PLAIN = sorted(k for k, c in KINDS.items() if not hasattr(c, "expand"))
COMPOSITES = sorted(k for k, c in KINDS.items() if hasattr(c, "expand"))


def _registries():
    from xnn.backends.keras.lowering import lowerings as keras_lowerings
    from xnn.backends.torch.lowering import lowerings as torch_lowerings
    from xnn.interop.mat.layouts import mat_layouts
    from xnn.interop.onnx.mapping import mappings

    return {
        "xnn/backends/torch/layers": torch_lowerings(),
        "xnn/backends/keras/layers": keras_lowerings(),
        "xnn/interop/onnx/layers": mappings(),
        "xnn/interop/mat/layers": mat_layouts(),
    }


def _stem(obj) -> str:
    return Path(inspect.getsourcefile(obj if inspect.isclass(obj) else type(obj))).relative_to(ROOT).with_suffix("").as_posix()


def _kind_files(tree: str, ext: str) -> set[str]:
    return {p.stem for p in (ROOT / tree).glob(f"*{ext}") if not p.name.startswith("_")}


def test_spec_layers_one_file_per_kind():
    for kind, cls in KINDS.items():
        assert _stem(cls) == f"xnn/layers/{kind.lower()}", kind
    assert _kind_files("xnn/layers", ".py") == {k.lower() for k in KINDS}


@pytest.mark.parametrize("tree", ["xnn/backends/torch/layers", "xnn/backends/keras/layers", "xnn/interop/onnx/layers"])
def test_python_tree_has_every_kind_in_its_own_file(tree):
    reg = _registries()[tree]
    missing = [k for k in PLAIN if k not in reg]
    assert not missing, f"{tree} lacks {missing}"
    for kind, obj in reg.items():
        assert kind in PLAIN, f"{tree} maps {kind}, which is not a registered (non-composite) layer"
        assert _stem(obj) == f"{tree}/{kind.lower()}", f"{kind} is defined in {_stem(obj)}.py"
    assert _kind_files(tree, ".py") == {k.lower() for k in PLAIN}


def test_mat_layouts_exist_for_every_kind_with_weights():
    reg = _registries()["xnn/interop/mat/layers"]
    for kind, obj in reg.items():
        assert kind in PLAIN and _stem(obj) == f"xnn/interop/mat/layers/{kind.lower()}", kind
    assert _kind_files("xnn/interop/mat/layers", ".py") == {k.lower() for k in reg}
    with_weights = set()
    for kind, case, _ in all_cases():
        spec = case_spec(kind, case)
        with_weights |= {n.kind for n in spec.nodes if n.params}
    lacking = sorted(with_weights - set(reg))
    assert not lacking, f"kinds with weights but no xnn/interop/mat/layers/<kind>.py: {lacking}"


@pytest.mark.parametrize("tree", ["matlab/+xnn/+layers", "matlab/+xnn/+toolbox"])
def test_matlab_tree_has_every_kind(tree):
    assert _kind_files(tree, ".m") == {k.lower() for k in PLAIN}
    for k in PLAIN:
        first = (ROOT / tree / f"{k.lower()}.m").read_text().splitlines()[0]
        assert re.match(rf"function .*=\s*{k.lower()}\(", first), f"{tree}/{k.lower()}.m: {first}"


def test_no_central_kind_tables():
    """The dispatchers name no kind: predict.m and toDlnetwork.m feval the per-kind file."""
    for f in ("matlab/+xnn/predict.m", "matlab/+xnn/toDlnetwork.m", "xnn/interop/mat/layouts.py"):
        text = (ROOT / f).read_text()
        named = [k for k in PLAIN if re.search(rf"['\"]{k}['\"]", text)]
        assert not named, f"{f} names kinds {named}"
