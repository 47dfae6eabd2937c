"""xnn schema: every property of every object schema has a description (editors show it on hover),
taken from the field's docstring; building the schema imports no framework, and the descriptions
change nothing else (a spec's hash is the one recorded before they were written)."""
import json
import subprocess
import sys

import xnn
from xnn.cli.cmd_schema import field_docs, spec_schema

from .conftest import EXAMPLES, ROOT

FRAMEWORKS = ("torch", "tensorflow", "keras")


def _norm(s: str) -> str:
    return s.lower().replace("_", " ").replace("-", " ").strip(" .`'\"")


def missing_descriptions(schema: dict) -> list[str]:
    """JSON pointers of the properties (at any depth) without a real description."""
    out = []

    def walk(node, path):
        if isinstance(node, dict):
            props = node.get("properties")
            if isinstance(props, dict):
                for key, sub in props.items():
                    d = sub.get("description") if isinstance(sub, dict) else None
                    if not isinstance(d, str) or not d.strip() or _norm(d) == _norm(key):
                        out.append(f"{path}/properties/{key}")
            for key, sub in node.items():
                walk(sub, f"{path}/{key}")
        elif isinstance(node, list):
            for i, sub in enumerate(node):
                walk(sub, f"{path}/{i}")

    walk(schema, "#")
    return out


def test_every_property_has_a_description():
    before = {m for m in FRAMEWORKS if m in sys.modules}
    schema = spec_schema()
    bad = missing_descriptions(schema)
    assert not bad, f"{len(bad)} properties without a description:\n" + "\n".join(bad)
    # the walk did see the layers, the nested sections and the top level
    assert len(schema["$defs"]) > 60
    assert "description" in schema["$defs"]["Dense"]["properties"]["units"]
    assert "description" in schema["properties"]["train"]
    for d in schema["$defs"].values():
        for key, sub in d.get("properties", {}).items():
            assert len(sub["description"]) < 200, (key, sub["description"])
    assert {m for m in FRAMEWORKS if m in sys.modules} == before  # nothing imported by the schema


def test_schema_imports_no_framework():
    code = ("import sys; from xnn.cli.cmd_schema import spec_schema; spec_schema(); "
            f"print([m for m in {FRAMEWORKS!r} if m in sys.modules])")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_descriptions_come_from_the_field_docstrings():
    from xnn.spec import layers
    from xnn.spec.sections import Adam

    conv = layers()["Conv2D"]
    docs = field_docs(conv)
    # declared in xnn/layers/_conv_base.py and xnn/spec/layer.py, inherited by Conv2D
    assert "channels" in docs["filters"].lower()
    assert docs["name"] == field_docs(layers()["Dense"])["name"]
    assert "type" in docs  # redeclared per layer without a docstring: the base's
    assert "outside" in field_docs(Adam)["eps"]
    # schema-only: the models themselves are unchanged (no pydantic field description)
    assert conv.model_fields["filters"].description is None
    schema = spec_schema()
    assert schema["$defs"]["Conv2D"]["properties"]["filters"]["description"] == docs["filters"]
    bn = schema["$defs"]["BatchNorm"]["properties"]["momentum"]["description"]
    assert "PyTorch" in bn and "(1 - m)" in bn


def test_the_spec_hash_is_unchanged():
    # recorded before the descriptions were written
    assert xnn.load_spec(EXAMPLES / "digits_cnn.yaml").hash() == \
        "683dcb075f5a2d4fce8ea72977257aa75e9993cfe5124ab5a0e3efeda8fd340a"
    assert xnn.load_spec(EXAMPLES / "tiny_transformer.yaml").hash() == \
        "35572ed241f00aa64a8054cafdd94965d7dad03c9dd5ea613cedf4012f95332b"
    assert xnn.load_spec(EXAMPLES / "digits_lstm.yaml").hash() == \
        "dd81c8912ee606eb3dafa6b71d852f01d055716dd9af81b9e0cc3d6ff648f2dc"


def test_schema_is_still_valid_json():
    json.loads(json.dumps(spec_schema()))
