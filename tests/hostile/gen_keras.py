"""Hostile Keras 3 ``.keras`` files for ``xnn import``: written by hand (zipfile, json, h5py), so
no TensorFlow is needed to make them and none of them could run code if they were loaded by
Keras itself with safe_mode off. Each must end in one ``error:`` line naming the file, exit 2,
and no run folder written.

- a Lambda layer (marshalled bytecode in the config) and a custom registered class;
- a zip bomb (a member that expands 1000x) and a member whose header lies about its size;
- a config.json nested 100,000 deep;
- a weights file whose dataset is stored in an external file (/etc/passwd), and one with an
  HDF5 external link.
"""
from __future__ import annotations

import base64
import json
import zipfile
from pathlib import Path

import numpy as np

from tests.hostile.corpus import Case, Ctx

SYSTEM_FILE = "/etc/passwd"


def _dense(name: str, units: int) -> dict:
    return {"module": "keras.layers", "class_name": "Dense", "registered_name": None,
            "config": {"name": name, "trainable": True, "units": units, "activation": "linear", "use_bias": True},
            "build_config": {"input_shape": [None, 4]}}


def _config(extra_layers: list[dict] = ()) -> dict:
    layers = [{"module": "keras.layers", "class_name": "InputLayer", "registered_name": None,
               "config": {"batch_shape": [None, 4], "dtype": "float32", "name": "input_layer"}},
              _dense("dense", 2), *extra_layers]
    return {"module": "keras", "class_name": "Sequential", "registered_name": None,
            "config": {"name": "sequential", "trainable": True, "layers": layers}}


def _weights(path: Path, fill=None) -> Path:
    import h5py

    with h5py.File(path, "w") as f:
        g = f.create_group("layers/dense/vars")
        if fill is None:
            g.create_dataset("0", data=np.ones((4, 2), np.float32))
            g.create_dataset("1", data=np.zeros((2,), np.float32))
        else:
            fill(f, g)
        f.create_group("vars")
    return path


def write_keras(path: Path, config: bytes | dict | None = None, weights: Path | None = None,
                members: dict[str, bytes] | None = None, deflate: bool = False) -> Path:
    """A .keras zip: config.json, metadata.json and model.weights.h5 (a valid one-Dense model
    unless told otherwise); ``members`` adds or replaces raw members."""
    cfg = config if config is not None else _config()
    cfg_bytes = cfg if isinstance(cfg, bytes) else json.dumps(cfg).encode()
    h5 = (weights or _weights(path.with_suffix(".h5"))).read_bytes()
    body = {"metadata.json": json.dumps({"keras_version": "3.15.1", "date_saved": "x"}).encode(),
            "config.json": cfg_bytes, "model.weights.h5": h5, **(members or {})}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED) as z:
        for k, v in body.items():
            z.writestr(k, v)
    path.with_suffix(".h5").unlink(missing_ok=True)
    return path


def _import(ctx: Ctx, path: Path) -> list:
    return ["import", path, "--out", ctx.dir / "imp"]


# ------------------------------------------------------------------------------ cases
def make_lambda(ctx: Ctx) -> Path:
    code = base64.b64encode(b"\xe3" + b"\x00" * 40).decode()  # stands for marshalled bytecode
    lam = {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
           "config": {"name": "evil", "function": {"class_name": "__lambda__", "config": {"code": code}}}}
    return write_keras(ctx.dir / "keras_lambda.keras", _config([lam]))


def make_custom(ctx: Ctx) -> Path:
    cus = {"module": "my_package.layers", "class_name": "MyDense", "registered_name": "my_package>MyDense",
           "config": {"name": "mine", "units": 2}}
    return write_keras(ctx.dir / "keras_custom.keras", _config([cus]))


def make_custom_initializer(ctx: Ctx) -> Path:
    d = _dense("dense2", 2)
    d["config"]["kernel_initializer"] = {"module": "os", "class_name": "system", "registered_name": "os>system",
                                         "config": {"command": "touch pwned"}}
    return write_keras(ctx.dir / "keras_custom_init.keras", _config([d]))


def make_zip_bomb(ctx: Ctx) -> Path:
    # 64 MB of zeros deflates to ~64 KB: refused from the header's ratio before inflating
    p = ctx.dir / "keras_zip_bomb.keras"
    with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("config.json", json.dumps(_config()))
        with z.open("model.weights.h5", "w", force_zip64=True) as f:
            block = b"\0" * (1 << 20)
            for _ in range(64):
                f.write(block)
    return p


def make_lying_size(ctx: Ctx) -> Path:
    """config.json's local and central headers say 100 bytes; the member holds more."""
    p = write_keras(ctx.dir / "keras_lying_size.keras", _config())
    data = bytearray(p.read_bytes())
    cfg = json.dumps(_config()).encode()
    n = len(cfg).to_bytes(4, "little")
    small = (100).to_bytes(4, "little")
    # stored member: compressed size == size; patch every occurrence of the pair in both headers
    pair = n + n
    assert data.count(pair) >= 2
    p.write_bytes(bytes(data).replace(pair, small + small))
    return p


def make_deep_config(ctx: Ctx) -> Path:
    deep = b"[" * 100_000 + b"]" * 100_000
    return write_keras(ctx.dir / "keras_deep_config.keras", deep)


def make_h5_external(ctx: Ctx) -> Path:
    def fill(f, g):
        g.create_dataset("0", shape=(4, 2), dtype="f4", external=[(SYSTEM_FILE, 0, 32)])
        g.create_dataset("1", data=np.zeros((2,), np.float32))

    return write_keras(ctx.dir / "keras_h5_external.keras", weights=_weights(ctx.dir / "w_ext.h5", fill))


def make_h5_external_link(ctx: Ctx) -> Path:
    import h5py

    def fill(f, g):
        g["0"] = h5py.ExternalLink("other.h5", "/x")
        g.create_dataset("1", data=np.zeros((2,), np.float32))

    return write_keras(ctx.dir / "keras_h5_external_link.keras", weights=_weights(ctx.dir / "w_link.h5", fill))


def make_not_zip(ctx: Ctx) -> Path:
    p = ctx.dir / "keras_not_zip.keras"
    p.write_bytes(b"PK\x03\x04 definitely not a zip" * 4)
    return p


def make_no_weights(ctx: Ctx) -> Path:
    p = ctx.dir / "keras_no_weights.keras"
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("config.json", json.dumps(_config()))
    return p


CASES = [
    Case("keras_lambda", make_lambda, _import, field="Lambda", needs_run=False),
    Case("keras_custom_class", make_custom, _import, field="MyDense", needs_run=False),
    Case("keras_custom_initializer", make_custom_initializer, _import, field="system", needs_run=False),
    Case("keras_zip_bomb", make_zip_bomb, _import, field="model.weights.h5", needs_run=False),
    Case("keras_lying_size", make_lying_size, _import, field="config.json", needs_run=False),
    Case("keras_deep_config", make_deep_config, _import, field="nested", needs_run=False),
    Case("keras_h5_external_storage", make_h5_external, _import, field="external", needs_run=False),
    Case("keras_h5_external_link", make_h5_external_link, _import, field="external link", needs_run=False),
    Case("keras_not_zip", make_not_zip, _import, needs_run=False),
    Case("keras_no_weights", make_no_weights, _import, field="model.weights.h5", needs_run=False),
]
