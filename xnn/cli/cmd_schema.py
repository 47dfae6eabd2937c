"""``xnn schema``: the JSON Schema (draft 2020-12) of a spec, generated from the pydantic section
models and every registered layer class (``model`` items are a oneOf over layer types).

Each property's ``description`` is its field's docstring: the string literal on the line right
under the field (``units: PositiveInt``, then ``"Output features."`` in triple quotes). They are
read from the source here, when the schema is built, not by pydantic's
``use_attribute_docstrings`` at class creation: on Python < 3.13 that parses every model's source
on ``import xnn`` (about 0.2 s more per command). A field redeclared without a docstring keeps its
nearest base's (every layer's ``type``). Descriptions appear only in the schema: parsing, errors
and spec hashes do not see them."""
from __future__ import annotations

import argparse
import ast
import functools
import inspect
import json
import textwrap
from typing import Any

VERB = "schema"
HELP = "print the JSON Schema of the spec format (generated from the code)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", help="write the schema to this file instead of printing it")


def spec_schema() -> dict[str, Any]:
    """The spec's JSON Schema as a dict."""
    from pydantic.json_schema import GenerateJsonSchema, models_json_schema

    from ..spec import SPEC_VERSION, layers
    from ..spec.registry import aliases
    from ..spec.sections import DataSpec, InputSpec, ParallelSpec, SearchSpec, TrainSpec

    layer_classes = layers()
    sections = {"input": InputSpec, "train": TrainSpec, "data": DataSpec, "parallel": ParallelSpec,
                "search": SearchSpec}
    models = list(sections.values()) + list(layer_classes.values())

    class _WithFieldDocs(GenerateJsonSchema):
        def model_schema(self, schema):
            out = super().model_schema(schema)
            docs = field_docs(schema["cls"])
            props = out.get("properties", {})
            for key, sub in props.items():
                if key in docs and isinstance(sub, dict) and "description" not in sub:
                    props[key] = {**sub, "description": docs[key]}
            return out

    refs, top = models_json_schema([(m, "validation") for m in models], ref_template="#/$defs/{model}",
                                   schema_generator=_WithFieldDocs)
    defs = top.get("$defs", {})

    def ref_of(m):
        return refs[(m, "validation")]

    # shorthands accepted by the validators: `loss: mse`, `optimizer: sgd`, `schedule: cosine`
    tp = defs.get(TrainSpec.__name__, {}).get("properties", {})
    for key in ("loss", "optimizer", "schedule"):
        if key in tp:
            sub = tp[key]
            names = sorted({d["properties"]["type"].get("const", d["properties"]["type"].get("default"))
                            for d in _variants(sub, defs)} - {None})
            doc = sub.pop("description", f"the {key}")
            tp[key] = {"anyOf": [sub, {"type": "string", "enum": names}],
                       "description": f"{doc}: a mapping, or just its type name"}

    # `activation: relu` on Dense/Conv layers (xnn.spec.sugar): a following Activation node
    from ..spec.sugar import IDENTITY, KERAS_NAMES, activation_fns

    fns = list(activation_fns())
    for c in layer_classes.values():
        if c.activation_sugar and c.__name__ in defs:
            defs[c.__name__].setdefault("properties", {})["activation"] = {
                "anyOf": [{"type": "string", "enum": fns + [n for n in IDENTITY if n] + list(KERAS_NAMES)},
                          {"type": "object", "description": "Activation fields, e.g. {fn: leaky_relu, negative_slope: 0.2}"},
                          {"type": "null"}],
                "description": "sugar for a following Activation node named <node>_<fn> (Keras's "
                               "activation=...); later nodes naming this node read the activated output"}

    alias_names = sorted(aliases())
    all_types = sorted(layer_classes) + alias_names
    items = [ref_of(c) for c in layer_classes.values()]
    items.append({"type": "object", "description": "shorthand layer type (e.g. relu -> Activation with fn relu)",
                  "properties": {"type": {"enum": alias_names, "description": "a shorthand layer type"}},
                  "required": ["type"]})
    items.append({"type": "string", "enum": all_types, "description": "a layer type without fields"})
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://xnn.dev/schema/spec-v{}.json".format(SPEC_VERSION),
        "title": "xnn spec",
        "description": "One framework-neutral model + training spec (channels-last shapes, no batch axis).",
        "type": "object",
        "additionalProperties": False,
        "required": ["input", "model"],
        "properties": {
            "xnn": {"const": SPEC_VERSION, "description": "spec format version"},
            "name": {"type": "string", "description": "the model's name (logs, reports, ONNX graph)"},
            "input": {**ref_of(InputSpec), "description": "the per-sample input (channels-last, no batch axis)"},
            "model": {"type": "array", "minItems": 1, "items": {"oneOf": items},
                      "description": "layers in order; each takes the previous node unless it names `inputs`"},
            "train": {**ref_of(TrainSpec), "description": "training: loss, optimizer, schedule, epochs, batches, "
                      "seeds (docs/semantics.md)"},
            "data": {**ref_of(DataSpec), "description": "the data source, preprocessing, splits and augmentation "
                     "(docs/data.md)"},
            "parallel": {**ref_of(ParallelSpec), "description": "data or model parallel training (docs/parallel.md)"},
            "search": {**ref_of(SearchSpec), "description": "hyperparameter search space for `xnn tune` "
                       "(options, and dotted spec paths mapped to distributions; docs/tuning.md)"},
        },
        "$defs": defs,
    }


def field_docs(cls: type) -> dict[str, str]:
    """Field name -> docstring of a pydantic model, over its bases: the class nearest ``cls`` that
    declares the field with a docstring wins."""
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        docs.update(_own_field_docs(klass))
    return docs


@functools.cache
def _own_field_docs(klass: type) -> dict[str, str]:
    """The fields declared in ``klass``'s own body that have a string literal right under them."""
    if "__annotations__" not in klass.__dict__ or klass.__module__.startswith("pydantic"):
        return {}
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(klass)))
    except (OSError, TypeError, SyntaxError):
        return {}
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    out = {}
    for stmt, nxt in zip(body, body[1:]):
        if (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and isinstance(nxt, ast.Expr)
                and isinstance(nxt.value, ast.Constant) and isinstance(nxt.value.value, str)):
            out[stmt.target.id] = inspect.cleandoc(nxt.value.value)
    return out


def _variants(sub: dict, defs: dict) -> list[dict]:
    out = []
    for v in sub.get("oneOf", sub.get("anyOf", [sub])):
        if "$ref" in v:
            v = defs.get(v["$ref"].split("/")[-1], {})
        if "properties" in v and "type" in v["properties"]:
            out.append(v)
    return out


def run(args: argparse.Namespace) -> int:
    text = json.dumps(spec_schema(), indent=2, sort_keys=False)
    if args.out:
        from ..fileio import write_text

        write_text(args.out, text + "\n")
        print(f"wrote {args.out}")
    else:
        print(text)
    return 0
