"""Read a Keras 3 ``.keras`` file without running anything from it.

A ``.keras`` file is a zip holding ``config.json`` (the model, as data), ``metadata.json`` and
``model.weights.h5``. This reader:

- bounds the zip: the number of members, each member's declared size (``MAX_JSON_BYTES`` for the
  JSON members, ``MAX_ARRAY_BYTES`` for the weights), the compression ratio (zip bombs), stored
  or deflated members only, no encryption, no duplicate names; members are read into memory
  with those bounds whatever the headers claim;
- parses config.json with the hardened :func:`xnn.limits.loads_json`, then refuses Lambda layers
  and custom or unknown objects by name (:mod:`.safety`) before reading any weight;
- reads the weights with the project's hardened HDF5 reader (:class:`xnn.interop.mat.safe_h5.H5File`:
  no external storage, links or virtual datasets, declared sizes checked), from the paths Keras
  gives each layer (``layers/<snake_case(class)>[_<n>]/vars/<i>``, ``cell/`` for RNNs,
  ``forward_layer/``/``backward_layer/`` for Bidirectional, ``query_dense/``... for attention).

Then :func:`xnn.interop.keras.graph.convert` builds the spec and params, the same code as
:func:`xnn.from_keras`.
"""
from __future__ import annotations

import os
import re
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ...errors import FormatError
from ...limits import limit, loads_json

MAX_MEMBERS = 10_000  # a .keras file has 3 members (plus assets)
MAX_RATIO = 200  # uncompressed / compressed size of one member (JSON compresses ~10x)
_SMALL = 1 << 16  # below this, no ratio check
_KNOWN = ("config.json", "metadata.json", "model.weights.h5")


def _snake(name: str) -> str:
    """Keras's snake-case of a class name (``Conv2D`` -> ``conv2d``, ``BatchNormalization`` ->
    ``batch_normalization``), which names each layer's group in model.weights.h5."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


# weight groups below a layer's own group, in get_weights() order
_SUBPATHS = {
    "LSTM": ["cell/vars"], "GRU": ["cell/vars"],
    "Bidirectional": ["forward_layer/cell/vars", "backward_layer/cell/vars"],
    "MultiHeadAttention": ["query_dense/vars", "key_dense/vars", "value_dense/vars", "output_dense/vars"],
}


def _members(z: zipfile.ZipFile, src: str) -> dict[str, zipfile.ZipInfo]:
    infos = z.infolist()
    if len(infos) > MAX_MEMBERS:
        raise FormatError(f"{src}: a zip with {len(infos)} members, more than {MAX_MEMBERS}; refused")
    out: dict[str, zipfile.ZipInfo] = {}
    for i in infos:
        if i.filename in out:
            raise FormatError(f"{src}: member {i.filename[:80]!r} appears twice in the zip; refused")
        out[i.filename] = i
    for name in ("config.json", "model.weights.h5"):
        if name not in out:
            hint = " (a sharded or npz weights file is not supported)" if name == "model.weights.h5" else ""
            raise FormatError(f"{src}: not a Keras 3 .keras file: no {name}{hint}")
    return out


def _read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, env: str, src: str) -> bytes:
    what = f"{src}: member {info.filename}"
    if info.flag_bits & 0x1:
        raise FormatError(f"{what}: encrypted; refused")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise FormatError(f"{what}: compression method {info.compress_type} (only stored or deflated); refused")
    if info.file_size > cap:
        raise FormatError(f"{what}: declares {info.file_size} bytes, larger than the limit of {cap} ({env})")
    if info.file_size > _SMALL and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise FormatError(f"{what}: expands {info.file_size / max(info.compress_size, 1):.0f}x "
                          f"({info.compress_size} -> {info.file_size} bytes; a zip bomb?); refused")
    try:
        with z.open(info) as f:
            data = f.read(info.file_size + 1)  # never more than declared (+1 to catch a lie)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as e:
        raise FormatError(f"{what}: unreadable ({str(e).splitlines()[0][:120] if str(e) else type(e).__name__})") \
            from None
    except Exception as e:  # zlib.error and friends: damaged data
        raise FormatError(f"{what}: damaged ({type(e).__name__})") from None
    if len(data) != info.file_size:
        raise FormatError(f"{what}: holds {'more' if len(data) > info.file_size else 'fewer'} bytes than its "
                          f"header declares ({info.file_size}); refused")
    return data


def read_keras(path: str | Path) -> tuple[dict, bytes]:
    """``(model_config, weights_h5_bytes)`` of a .keras file, every bound checked; the config
    already passed the Lambda/custom-object check."""
    from .masking import mask_arguments
    from .safety import check_objects

    src = str(path)
    p = Path(path)
    if not p.is_file():
        raise FormatError(f"{src}: missing or not a regular file")
    try:
        z = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
        raise FormatError(f"{src}: not a .keras file (not a readable zip: "
                          f"{str(e).splitlines()[0][:120] if str(e) else type(e).__name__})") from None
    except Exception as e:
        raise FormatError(f"{src}: not a .keras file (damaged zip: {type(e).__name__})") from None
    with z:
        members = _members(z, src)
        js = limit("MAX_JSON_BYTES")
        cfg_bytes = _read_member(z, members["config.json"], js, "XNN_LIMIT_MAX_JSON_BYTES", src)
        cfg = loads_json(cfg_bytes, f"{src}: config.json")
        if "metadata.json" in members:
            loads_json(_read_member(z, members["metadata.json"], js, "XNN_LIMIT_MAX_JSON_BYTES", src),
                       f"{src}: metadata.json")
        # by name, before anything else is read; the mask op layers a functional config records as
        # layers' mask= arguments are data the importer interprets (masking.py), not objects
        problems = check_objects(mask_arguments(cfg)[0])
        if problems:
            raise FormatError(problems, source=src)
        h5 = _read_member(z, members["model.weights.h5"], limit("MAX_ARRAY_BYTES"), "XNN_LIMIT_MAX_ARRAY_BYTES", src)
    return cfg, h5


class H5Weights:
    """Keras layer weights read from model.weights.h5 through the hardened reader."""

    def __init__(self, h5, src: str):
        self.h5 = h5
        self.src = src
        self.groups: dict[str, str] = {}

    def assign(self, entries: list[dict], kind: str) -> None:
        """Each layer's group: Keras names them by class in the model's layer order (a
        Sequential's list leaves out its InputLayer)."""
        used: dict[str, int] = {}
        for e in entries:
            cls = str(e.get("class_name"))
            if kind == "Sequential" and cls == "InputLayer":
                continue
            base = _snake(cls)
            if base in used:
                used[base] += 1
                g = f"{base}_{used[base]}"
            else:
                used[base] = 0
                g = base
            name = str((e.get("config") or {}).get("name") or "")
            self.groups[name] = f"layers/{g}"

    def _group(self, path: str):
        node = None
        where = ""
        for part in path.split("/"):
            where = f"{where}/{part}" if where else part
            node = self.h5.child(node, part, where)
        return node, where

    def __call__(self, lay) -> list[np.ndarray]:
        import h5py

        base = self.groups.get(lay.name)
        if base is None:
            raise FormatError(f"{self.src}: layer {lay.name!r} has no weights group")
        out = []
        for sub in _SUBPATHS.get(lay.cls, ["vars"]):
            path = f"{base}/{sub}"
            present = self._present(path)
            if not present:
                continue
            g, where = self._group(path)
            if not isinstance(g, h5py.Group):
                raise FormatError(f"{self.src}: model.weights.h5: {where}: not a group")
            names = self.h5.names(g)
            if any(not n.isdigit() for n in names) or sorted(int(n) for n in names) != list(range(len(names))):
                raise FormatError(f"{self.src}: model.weights.h5: {where}: variables {names[:8]} are not 0..n-1")
            for i in range(len(names)):
                ds = self.h5.child(g, str(i), f"{where}/{i}")
                if not isinstance(ds, h5py.Dataset):
                    raise FormatError(f"{self.src}: model.weights.h5: {where}/{i}: not a dataset")
                a = self.h5.read(ds, f"{where}/{i}")
                if a.dtype.kind not in "fiu":
                    raise FormatError(f"{self.src}: model.weights.h5: {where}/{i}: not numbers ({a.dtype})")
                if not np.all(np.isfinite(a)):
                    raise FormatError(f"{self.src}: model.weights.h5: {where}/{i}: holds NaN or infinity")
                out.append(a.astype(np.float64))
        return out

    def _present(self, path: str) -> bool:
        node = None
        for part in path.split("/"):
            if not self.h5.has(part, node):
                return False
            node = self.h5.child(node, part, path)
        return True


def import_keras(path: str | Path) -> tuple[dict, dict[str, np.ndarray]]:
    """``(spec_dict, params)`` of a .keras file. Raises FormatError naming the file."""
    from ..mat.safe_h5 import H5File
    from .graph import convert

    src = str(path)
    cfg, h5_bytes = read_keras(path)
    with tempfile.TemporaryDirectory(prefix="xnn-keras-") as tmp:
        wpath = Path(tmp) / "model.weights.h5"
        fd = os.open(wpath, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(h5_bytes)
        del h5_bytes
        try:
            with H5File(wpath, error=FormatError, what="Keras weights file (model.weights.h5)",
                        budget=limit("MAX_ARRAY_BYTES")) as h5:
                w = H5Weights(h5, src)

                def source_for(entries, kind):
                    w.assign(entries, kind)
                    return w

                return convert(cfg, source_for, src)
        except FormatError as e:  # the hardened reader names the temporary copy: name the .keras file
            tmp_name = str(wpath)
            if not any(tmp_name in m for m in e.messages):
                raise
            to = "model.weights.h5" if e.source else f"{src}: model.weights.h5"
            raise FormatError([m.replace(tmp_name, to) for m in e.messages], source=e.source) from None
