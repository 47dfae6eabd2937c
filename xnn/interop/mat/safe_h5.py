"""The one hardened reader of HDF5 files (MATLAB v7.3 .mat), used by the data pipeline
(:mod:`xnn.data.files`) and by the .mat import (:mod:`xnn.interop.mat.hdf5`).

An HDF5 file can reach outside itself and ask for more than it holds; this reader refuses, before
a byte of data is read:

- external links (a link into another file) and user-defined links; soft links are resolved
  inside the file only, with a hop limit, and refused when they dangle;
- datasets with external raw storage (bytes kept in another file, e.g. ``/etc/passwd``) and
  virtual datasets (VDS, assembled from other files);
- filters other than deflate, shuffle and fletcher32 (anything else would load a plugin or run a
  rarely used decoder);
- datatypes other than integers, floats and object references (no compound, variable-length,
  opaque, enum or region references); attributes other than small fixed-size strings and numbers;
- arrays whose rank exceeds ``MAX_ARRAY_DIMS`` or whose declared size exceeds ``MAX_ARRAY_BYTES``
  (``xnn.limits``), chunks larger than that, declared sizes the stored bytes cannot hold
  (truncated files, or "fill value" arrays declaring gigabytes in a 2 KB file), and more than
  ``MAX_H5_OBJECTS`` objects visited in one file (reference loops).

Every problem raises the caller's error class (``DataError`` or ``FormatError``) as one line
naming the file and the variable; no h5py exception escapes.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import FormatError, XnnError
from ...limits import limit

MAX_H5_OBJECTS = 1_000_000  # objects (groups, datasets, references) visited in one file
MAX_ATTR_BYTES = 64 * 2**10  # one attribute read (MATLAB_class and friends are a few bytes)
MAX_SOFT_LINK_HOPS = 8
DEFLATE_RATIO = 1100  # deflate cannot expand more than ~1032x; a declared size beyond that is a lie
_SMALL = 1 << 20  # below this, a declared size is not compared with the stored bytes


def _filters() -> dict[int, str]:
    from h5py import h5z

    return {h5z.FILTER_DEFLATE: "deflate", h5z.FILTER_SHUFFLE: "shuffle", h5z.FILTER_FLETCHER32: "fletcher32"}


class H5File:
    """A read-only HDF5 file whose every link, dataset and attribute is checked before use.

    ``error``: the exception class raised (DataError for data files, FormatError for imports);
    ``label``: put before a variable's name in messages (``"variable "`` or ``""``);
    ``budget``: total bytes all reads together may take (default ``MAX_ARRAY_BYTES`` per array only).
    """

    def __init__(self, path: str | Path, error: type[XnnError] = FormatError, label: str = "",
                 budget: int | None = None, what: str = "MAT v7.3 (HDF5) file"):
        self.path = Path(path)
        self.error = error
        self.label = label
        self.budget = budget
        self.what = what
        self.visits = 0
        self.f = None

    # ------------------------------------------------------------------ errors
    def fail(self, where: str | None, msg: str):
        loc = f"{self.label}{where}: " if where else ""
        raise self.error(f"{self.path}: {loc}{msg}")

    def guard(self, where: str | None, fn, *args):
        """``fn(*args)``; any non-xnn exception (h5py's OSError, KeyError, RuntimeError...) becomes
        one error line naming the file and ``where``."""
        try:
            return fn(*args)
        except XnnError:
            raise
        except RecursionError:
            self.fail(where, "nested too deeply")
        except MemoryError:
            self.fail(where, "does not fit in memory")
        except Exception as e:
            text = str(e).splitlines()[0][:120] if str(e) else ""
            self.fail(where, f"unreadable, damaged or truncated ({type(e).__name__}{': ' + text if text else ''})")

    # ------------------------------------------------------------------ open / close
    def __enter__(self) -> "H5File":
        try:
            import h5py
        except ImportError:
            raise self.error(f"{self.path}: a MATLAB v7.3 (HDF5) file; install h5py to read it, "
                             f"or save the file with -v7") from None
        try:
            self.size = os.stat(self.path).st_size
            self.f = h5py.File(self.path, "r", locking=False)
        except Exception as e:
            text = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
            raise self.error(f"{self.path}: not a readable {self.what} ({text})") from None
        return self

    def __exit__(self, *exc) -> None:
        if self.f is not None:
            try:
                self.f.close()
            except Exception:
                pass
            self.f = None

    # ------------------------------------------------------------------ links
    @property
    def root(self):
        return self.f

    def names(self, group=None) -> list[str]:
        """Link names in ``group`` (default the root), MATLAB's ``#refs#``/``#subsystem#`` excluded
        at the root. Nothing is followed."""
        g = self.f if group is None else group
        names = self.guard(None if group is None else g.name, lambda: [str(k) for k in g.keys()])
        return [n for n in names if not (group is None and n.startswith("#"))]

    def has(self, name: str, group=None) -> bool:
        g = self.f if group is None else group
        if "/" in name or not name:
            return False
        return self.guard(name, lambda: g.get(name, getlink=True) is not None)

    def child(self, group, name: str, where: str):
        """The object the link ``name`` of ``group`` names, after checking the link: hard links and
        in-file soft links only."""
        import h5py

        g = self.f if group is None else group
        if "/" in name or not name:
            self.fail(where, "no such variable")
        link = self.guard(where, lambda: g.get(name, getlink=True))
        if link is None:
            self.fail(where, "no such variable")
        if isinstance(link, h5py.HardLink):
            return self._checked(self.guard(where, lambda: g[name]), where)
        if isinstance(link, h5py.SoftLink):
            return self._checked(self._resolve_soft(g, link.path, where), where)
        if isinstance(link, h5py.ExternalLink):
            self.fail(where, f"an HDF5 external link to {link.filename!r}; links out of the file are refused")
        self.fail(where, f"an HDF5 link of unsupported type {type(link).__name__}; refused")

    def _resolve_soft(self, start, target: str, where: str, hops: int = 0):
        """Walk a soft link's path one component at a time without ever following an external link."""
        import h5py

        if hops >= MAX_SOFT_LINK_HOPS:
            self.fail(where, f"soft links nested more than {MAX_SOFT_LINK_HOPS} deep (a loop?); refused")
        node = self.f if target.startswith("/") else start
        parts = [p for p in target.split("/") if p and p != "."]
        if not parts:
            return node
        for i, part in enumerate(parts):
            if part == "..":
                self.fail(where, f"a soft link to {target!r} leaves its group; refused")
            if not isinstance(node, h5py.Group):
                self.fail(where, f"a dangling soft link to {target!r}")
            link = self.guard(where, lambda: node.get(part, getlink=True))
            if link is None:
                self.fail(where, f"a dangling soft link to {target!r}")
            if isinstance(link, h5py.HardLink):
                node = self.guard(where, lambda: node[part])
            elif isinstance(link, h5py.SoftLink):
                node = self._resolve_soft(node, link.path, where, hops + 1)
            elif isinstance(link, h5py.ExternalLink):
                self.fail(where, f"a soft link through an HDF5 external link to {link.filename!r}; refused")
            else:
                self.fail(where, f"a soft link through an unsupported link type; refused")
        return node

    def deref(self, ref, where: str):
        """The object an object reference (in a MATLAB cell) points at, checked like a link."""
        import h5py

        if not isinstance(ref, h5py.Reference) or isinstance(ref, h5py.RegionReference):
            self.fail(where, "not an object reference")
        if not ref:
            self.fail(where, "a null reference")
        obj = self.guard(where, lambda: self.f[ref])
        same = self.guard(where, lambda: obj.file.id == self.f.id)
        if not same:
            self.fail(where, "a reference into another file; refused")
        return self._checked(obj, where)

    def _checked(self, obj, where: str):
        import h5py

        self.visits += 1
        if self.visits > MAX_H5_OBJECTS:
            self.fail(where, f"more than {MAX_H5_OBJECTS} objects visited (a reference loop?); refused")
        if isinstance(obj, h5py.Dataset):
            self.check_dataset(obj, where)
        elif not isinstance(obj, h5py.Group):
            self.fail(where, f"an HDF5 {type(obj).__name__}, not a dataset or group")
        return obj

    # ------------------------------------------------------------------ attributes
    def attr(self, obj, name: str, where: str) -> Any:
        """A small attribute (fixed-size string -> str, number -> Python scalar/array), or None."""
        from h5py import h5a, h5t

        try:
            present = name in obj.attrs
        except Exception:
            present = False
        if not present:
            return None

        def read():
            aid = h5a.open(obj.id, name.encode())
            tclass = aid.get_type().get_class()
            if tclass == h5t.STRING and aid.get_type().is_variable_str():
                self.fail(where, f"attribute {name}: a variable-length string; refused")
            if tclass not in (h5t.STRING, h5t.INTEGER, h5t.FLOAT):
                self.fail(where, f"attribute {name}: unsupported HDF5 type; refused")
            n = int(np.prod(aid.shape, dtype=np.float64)) * aid.dtype.itemsize
            if n > MAX_ATTR_BYTES or len(aid.shape) > limit("MAX_ARRAY_DIMS"):
                self.fail(where, f"attribute {name}: {n} bytes, larger than {MAX_ATTR_BYTES}; refused")
            return obj.attrs[name]

        v = self.guard(where, read)
        if isinstance(v, bytes):
            return v.decode("ascii", "replace")
        if isinstance(v, np.ndarray) and v.dtype.kind == "S":
            return b"".join(v.reshape(-1).tolist()).decode("ascii", "replace")
        return v

    def has_attr(self, obj, name: str) -> bool:
        try:
            return name in obj.attrs
        except Exception:
            return False

    def matlab_class(self, obj, where: str) -> str:
        c = self.attr(obj, "MATLAB_class", where)
        return c if isinstance(c, str) else ("" if c is None else str(c))

    # ------------------------------------------------------------------ datasets
    def check_dataset(self, ds, where: str, refs: bool = True) -> int:
        """Refuse what would reach outside the file or allocate more than the limits allow.
        Returns the dataset's size in bytes."""
        from h5py import h5d, h5t

        def inspect():
            plist = ds.id.get_create_plist()
            if plist.get_external_count():
                name = plist.get_external(0)[0]
                name = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
                self.fail(where, f"stored in an external file ({name!r}); HDF5 external storage is refused")
            layout = plist.get_layout()
            if layout == h5d.VIRTUAL:
                self.fail(where, "an HDF5 virtual dataset (data from other files); refused")
            allowed = _filters()
            filters = [plist.get_filter(i)[0] for i in range(plist.get_nfilters())]
            for code in filters:
                if code not in allowed:
                    self.fail(where, f"HDF5 filter {code} is not one of {sorted(allowed.values())}; refused")
            tid = ds.id.get_type()
            tclass = tid.get_class()
            if tclass == h5t.REFERENCE:
                if not refs or tid.get_size() != 8 or not tid.equal(h5t.STD_REF_OBJ):
                    self.fail(where, "HDF5 references other than object references are refused")
            elif tclass not in (h5t.INTEGER, h5t.FLOAT):
                self.fail(where, "an HDF5 datatype that is not a number; refused")
            elif ds.dtype.kind not in "biuf":  # raises for float formats NumPy cannot hold
                self.fail(where, f"HDF5 datatype {ds.dtype} is not a number; refused")
            if ds.shape is None:
                self.fail(where, "an HDF5 dataset with a null dataspace; refused")
            shape = tuple(int(s) for s in ds.shape)
            return plist, layout, filters, shape, int(tid.get_size())

        plist, layout, filters, shape, itemsize = self.guard(where, inspect)
        if len(shape) > limit("MAX_ARRAY_DIMS"):
            self.fail(where, f"{len(shape)} dimensions, more than the limit of {limit('MAX_ARRAY_DIMS')} "
                             f"(XNN_LIMIT_MAX_ARRAY_DIMS)")
        nbytes = int(np.prod(shape, dtype=np.float64)) * itemsize
        cap = limit("MAX_ARRAY_BYTES")
        if nbytes > cap:
            self.fail(where, f"shape {list(shape)} is {nbytes} bytes, larger than the limit of {cap} bytes "
                             f"(XNN_LIMIT_MAX_ARRAY_BYTES)")
        from h5py import h5d

        if layout == h5d.CHUNKED:
            chunk = self.guard(where, plist.get_chunk)
            cbytes = int(np.prod(chunk, dtype=np.float64)) * itemsize
            if cbytes > max(cap, _SMALL) or len(chunk) > limit("MAX_ARRAY_DIMS"):
                self.fail(where, f"HDF5 chunks of {cbytes} bytes, larger than the limit of {cap} bytes; refused")
        stored = int(self.guard(where, ds.id.get_storage_size))
        if nbytes > _SMALL:
            room = stored * (DEFLATE_RATIO if filters else 1)
            if room < nbytes:
                self.fail(where, f"declares {nbytes} bytes but the file stores only {stored} "
                                 f"(truncated, or an unwritten array); refused")
        if layout == h5d.CONTIGUOUS and stored:
            off = self.guard(where, ds.id.get_offset)
            if off is not None and off + stored > self.size:
                self.fail(where, f"data at bytes {off}..{off + stored} runs past the end of the file "
                                 f"({self.size} bytes; truncated)")
        return nbytes

    def read(self, ds, where: str) -> np.ndarray:
        """The whole dataset as a NumPy array, after :meth:`check_dataset`, within the budget."""
        nbytes = self.check_dataset(ds, where)
        if self.budget is not None:
            self.budget -= nbytes
            if self.budget < 0:
                self.fail(where, "the file's arrays together are larger than the size limit")

        return self.guard(where, lambda: np.asarray(ds[()]))
