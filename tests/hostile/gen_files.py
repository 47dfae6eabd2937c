"""Hostile data and .mat files for ``xnn predict`` / ``evaluate`` / ``train`` (data readers) and
``xnn import`` (.mat import): HDF5 (.mat v7.3) files that reach outside themselves (external raw
storage pointing at /etc/passwd, external links, soft links that dangle or loop, virtual
datasets), that declare gigabytes in a few KB, that use unknown filters or non-numeric types, or
that are zeroed or truncated; .npz/.npy headers that lie about their size or rank; CSV files with
huge cells, huge rows or NUL bytes; values beyond float32's range; and .mat v5 headers that lie.

Every file is a few KB (the CSV cases a few hundred KB, written at test time).
"""
from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import numpy as np

from tests.hostile.corpus import TINY_SPEC, Case, Ctx

MAT73_HEADER = (b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema 1.00 ."
                .ljust(116) + b"\x00" * 8 + b"\x00\x02" + b"IM")
SYSTEM_FILE = "/etc/passwd" if os.path.isfile("/etc/passwd") else os.__file__


# ------------------------------------------------------------------ builders
def mat73(path: Path, fill) -> Path:
    """A MATLAB v7.3 file (512-byte user block with the MAT header) filled by ``fill(h5file)``."""
    import h5py

    with h5py.File(path, "w", userblock_size=512, libver="earliest") as f:
        fill(f)
    with open(path, "r+b") as fh:
        fh.write(MAT73_HEADER)
    return path


def _cls(ds, cls: str = "double"):
    ds.attrs["MATLAB_class"] = np.bytes_(cls)
    return ds


def _good_x(f, name: str = "x", n: int = 6):
    """x stored as MATLAB does: (4, n) in HDF5 is an (n, 4) MATLAB array."""
    return _cls(f.create_dataset(name, data=np.linspace(-1, 1, 4 * n).reshape(4, n)))


def _external(f):
    size = os.path.getsize(SYSTEM_FILE) // 32 * 32
    _cls(f.create_dataset("x", shape=(4, max(size // 32, 1)), dtype="f8", external=[(SYSTEM_FILE, 0, max(size, 32))]))


def _external_link(f):
    import h5py

    f["x"] = h5py.ExternalLink(SYSTEM_FILE, "/x")


def _external_link_into_h5(ctx_dir: Path):
    import h5py

    def fill(f):
        f["x"] = h5py.ExternalLink(str(ctx_dir / "other.h5"), "/x")

    return fill


def _soft_dangling(f):
    import h5py

    f["x"] = h5py.SoftLink("/nowhere/x")


def _soft_loop(f):
    import h5py

    f["x"] = h5py.SoftLink("/y")
    f["y"] = h5py.SoftLink("/x")


def _soft_through_external(f):
    import h5py

    f["g"] = h5py.ExternalLink(SYSTEM_FILE, "/")
    f["x"] = h5py.SoftLink("/g/x")


def _declares_huge(f):
    _cls(f.create_dataset("x", shape=(4, 90_000_000), dtype="f8", chunks=(4, 1000)))  # 2.9 GB


def _declares_fill(f):
    _cls(f.create_dataset("x", shape=(4, 40_000_000), dtype="f8", chunks=(4, 1000)))  # 1.3 GB, nothing stored


def _huge_chunk(f):
    """A 4 x 6 array whose one chunk is 2.9 GB (allowed for extendible datasets): reading it
    would allocate the whole chunk."""
    _cls(f.create_dataset("x", shape=(4, 6), dtype="f8", chunks=(4, 90_000_000), maxshape=(None, None)))


def _compound(f):
    dt = np.dtype([("a", "f8"), ("b", "f8")])
    _cls(f.create_dataset("x", data=np.zeros((4, 6), dt)))


def _unknown_filter(f):
    _cls(f.create_dataset("x", shape=(4, 6), dtype="f8", chunks=(4, 6), compression=32123,
                          allow_unknown_filter=True))


def _virtual(ctx_dir: Path):
    def fill(f):
        import h5py

        with h5py.File(ctx_dir / "src.h5", "w") as g:
            g.create_dataset("data", data=np.ones((4, 6)))
        layout = h5py.VirtualLayout(shape=(4, 6), dtype="f8")
        layout[:] = h5py.VirtualSource(str(ctx_dir / "src.h5"), "data", shape=(4, 6))
        _cls(f.create_virtual_dataset("x", layout))

    return fill


def zero_object_header(path: Path, name: str, n: int = 64) -> Path:
    """Zero ``n`` bytes of the object header of ``name`` (the rest of the file stays valid)."""
    import h5py

    with h5py.File(path, "r") as f:
        at = f.userblock_size + h5py.h5o.get_info(f[name].id).addr
    data = bytearray(path.read_bytes())
    data[at:at + n] = b"\x00" * n
    path.write_bytes(bytes(data))
    return path


def _zeroed(path: Path) -> Path:
    """A valid v7.3 file with the object header of x zeroed."""
    mat73(path, lambda f: (_good_x(f), _cls(f.create_dataset("y", data=np.zeros((1, 6))))))
    return zero_object_header(path, "x")


def _truncated(path: Path) -> Path:
    mat73(path, lambda f: _good_x(f, n=400))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    return path


def npy_bytes(header: dict, data: bytes = b"", version=(1, 0)) -> bytes:
    """A .npy file with an arbitrary (hostile) header dict."""
    buf = io.BytesIO()  # the header writers put the magic string first
    if version == (1, 0):
        np.lib.format.write_array_header_1_0(buf, header)
    else:
        np.lib.format.write_array_header_2_0(buf, header)
    return buf.getvalue() + data


def npz_of(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for k, v in members.items():
            z.writestr(f"{k}.npy", v)
    return path


def _v5_declares_huge(path: Path) -> Path:
    """An uncompressed v5 file whose x header claims 100000 x 100000 doubles (80 GB)."""
    import scipy.io

    scipy.io.savemat(path, {"x": np.zeros((6, 4))}, do_compression=False)
    data = bytearray(path.read_bytes())
    at = data.index((6).to_bytes(4, "little") + (4).to_bytes(4, "little"), 128)
    data[at:at + 8] = (100_000).to_bytes(4, "little") + (100_000).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


def _v5_unknown_type(path: Path) -> Path:
    """x's data element has type 265: scipy's parser indexed a table with it (a segmentation fault)."""
    import scipy.io

    scipy.io.savemat(path, {"x": np.zeros((6, 4))}, do_compression=False)
    data = bytearray(path.read_bytes())
    at = data.index((9).to_bytes(4, "little") + (192).to_bytes(4, "little"), 128)  # miDOUBLE, 6*4*8 bytes
    data[at:at + 4] = (265).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    return path


# ------------------------------------------------------------------ xnn .mat files for import
def exported_mat73(path: Path) -> Path:
    """A real xnn v7.3 export of the tiny spec."""
    import warnings

    import yaml

    from xnn.init import init_params
    from xnn.interop.mat import export_mat
    from xnn.spec import from_dict

    spec = from_dict(yaml.safe_load(TINY_SPEC))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return export_mat(spec, init_params(spec, 0), path, version="7.3", n_ref=2)


def _replace_weight(path: Path, make) -> Path:
    """Replace the first weight dataset inside ``#refs#`` by ``make(group, name, shape, dtype, cls)``."""
    import h5py

    with h5py.File(path, "r+") as f:
        refs = f["#refs#"]
        for key in refs:
            g = refs[key]
            if isinstance(g, h5py.Group) and "weights" in g and len(g["weights"]):
                w = g["weights"]
                name = sorted(w.keys())[0]
                ds = w[name]
                shape, dtype, cls = ds.shape, ds.dtype, ds.attrs["MATLAB_class"]
                del w[name]
                make(w, name, shape, dtype, cls)
                return path
    raise AssertionError("no weights found in the export")


def _import_external(path: Path) -> Path:
    def make(w, name, shape, dtype, cls):
        n = int(np.prod(shape)) * dtype.itemsize
        w.create_dataset(name, shape=shape, dtype=dtype, external=[(SYSTEM_FILE, 0, n)]).attrs["MATLAB_class"] = cls

    return _replace_weight(exported_mat73(path), make)


def _import_external_link(path: Path) -> Path:
    import h5py

    def make(w, name, shape, dtype, cls):
        w[name] = h5py.ExternalLink(SYSTEM_FILE, "/w")

    return _replace_weight(exported_mat73(path), make)


def _import_soft_dangling(path: Path) -> Path:
    import h5py

    def make(w, name, shape, dtype, cls):
        w[name] = h5py.SoftLink("/#refs#/nothing")

    return _replace_weight(exported_mat73(path), make)


def _import_declares_huge(path: Path) -> Path:
    def make(w, name, shape, dtype, cls):
        w.create_dataset(name, shape=(50_000, 20_000), dtype="f8", chunks=(100, 100)).attrs["MATLAB_class"] = cls

    return _replace_weight(exported_mat73(path), make)


def _import_zeroed(path: Path) -> Path:
    """A real export with the object header of one layer's weights zeroed."""
    import h5py

    exported_mat73(path)
    with h5py.File(path, "r") as f:
        name = next(g["weights"][k].name for g in f["#refs#"].values()
                    if isinstance(g, h5py.Group) and "weights" in g for k in sorted(g["weights"]))
    return zero_object_header(path, name)


def _import_deep_json(path: Path) -> Path:
    """A v5 xnn .mat whose spec_json nests 100,000 lists deep (RecursionError in json.loads)."""
    import scipy.io

    scipy.io.savemat(path, {"xnn_format": np.int32(1), "spec_json": "[" * 100_000 + "]" * 100_000})
    return path


# ------------------------------------------------------------------ cases
def _predict(ctx: Ctx, path: Path) -> list:
    return ["predict", ctx.run, "--data", path, "--out", ctx.dir / "p.npz"]


def _evaluate(ctx: Ctx, path: Path) -> list:
    return ["evaluate", ctx.run, "--data", path]


def _import(ctx: Ctx, path: Path) -> list:
    return ["import", path, "--out", ctx.dir / "imp"]


def _train(ctx: Ctx, path: Path) -> list:
    return ["train", ctx.dir / "evil_spec.yaml", "--out", ctx.dir / "out", "--quiet"]


def _train_on(ctx: Ctx, path: Path) -> Path:
    """A spec whose data section reads the hostile file ``path`` (next to it)."""
    (ctx.dir / "evil_spec.yaml").write_text(TINY_SPEC.replace("source: iris", f"source: {path.name}"))
    return path


def _m73(name: str, fill, field: str | None = "x", argv=_predict, needs_run: bool = True) -> Case:
    return Case(name, lambda ctx: mat73(ctx.dir / f"{name}.mat", fill), argv, field=field, needs_run=needs_run)


def _m73_dir(name: str, fill_of_dir, field: str | None = "x") -> Case:
    return Case(name, lambda ctx: mat73(ctx.dir / f"{name}.mat", fill_of_dir(ctx.dir)), _predict, field=field,
                needs_run=True)


def _other_h5(ctx: Ctx) -> Path:
    import h5py

    with h5py.File(ctx.dir / "other.h5", "w") as g:
        _cls(g.create_dataset("x", data=np.ones((4, 5))))
    return mat73(ctx.dir / "files_mat73_external_link_h5.mat", _external_link_into_h5(ctx.dir))


def _file(name: str, write, argv=_predict, field: str | None = None, needs_run: bool = True) -> Case:
    return Case(name, lambda ctx: write(ctx.dir / name), argv, field=field, needs_run=needs_run)


def _write_bytes(data_fn):
    def write(p: Path) -> Path:
        p.write_bytes(data_fn())
        return p

    return write


def _csv_big_cell(p: Path) -> Path:
    p.write_text("a,b,c,d\n" + "1,2,3," + "9" * 100_000 + "\n" + "1,2,3,4\n" * 20_000)
    return p


def _csv_wide_row(p: Path) -> Path:
    p.write_text(",".join(f"c{i}" for i in range(4)) + "\n" + "1," * 200_000 + "1\n")
    return p


_F8 = "<f8"
CASES: list[Case] = [
    # -------- HDF5 reaching outside the file
    _m73("files_mat73_external_storage", _external, field="x"),
    _m73("files_mat73_external_link", _external_link, field="x"),
    Case("files_mat73_external_link_h5", _other_h5, _predict, field="external link", needs_run=True),
    _m73("files_mat73_soft_link_dangling", _soft_dangling, field="dangling"),
    _m73("files_mat73_soft_link_loop", _soft_loop, field="x"),
    _m73("files_mat73_soft_through_external", _soft_through_external, field="external"),
    _m73_dir("files_mat73_virtual_dataset", _virtual, field="virtual"),
    _m73("files_mat73_external_storage_evaluate", _external, field="external", argv=_evaluate),
    Case("files_mat73_external_storage_train", lambda ctx: _train_on(ctx, mat73(ctx.dir / "evil.mat", _external)), _train,
         field="external"),
    # -------- HDF5 sizes, types, filters, damage
    _m73("files_mat73_declares_huge", _declares_huge, field="XNN_LIMIT_MAX_ARRAY_BYTES"),
    _m73("files_mat73_declares_fill", _declares_fill, field="stores only"),
    _m73("files_mat73_huge_chunk", _huge_chunk, field="chunks"),
    _m73("files_mat73_compound", _compound, field="x"),
    _m73("files_mat73_unknown_filter", _unknown_filter, field="filter"),
    _file("files_mat73_zeroed.mat", _zeroed, field="x"),
    _file("files_mat73_truncated.mat", _truncated),
    # -------- .npz / .npy headers that lie
    _file("files_npz_declares_huge.npz", lambda p: npz_of(p, {"x": npy_bytes(
        {"descr": _F8, "fortran_order": False, "shape": (1_000_000, 1_000_000)}, b"\0" * 64)}),
          field="XNN_LIMIT_MAX_ARRAY_BYTES"),
    _file("files_npz_short_data.npz", lambda p: npz_of(p, {"x": npy_bytes(
        {"descr": _F8, "fortran_order": False, "shape": (100_000, 4)}, b"\0" * 64)}), field="x"),
    _file("files_npz_rank.npz", lambda p: npz_of(p, {"x": npy_bytes(
        {"descr": _F8, "fortran_order": False, "shape": (1,) * 40}, b"\0" * 8)}), field="XNN_LIMIT_MAX_ARRAY_DIMS"),
    _file("files_npz_pickle.npz", lambda p: npz_of(p, {"x": npy_bytes(
        {"descr": "|O", "fortran_order": False, "shape": (2,)}, b"\x80\x04N.")}), field="objects"),
    _file("files_npy_declares_huge.npy", _write_bytes(lambda: npy_bytes(
        {"descr": _F8, "fortran_order": False, "shape": (10**7, 10**6)}, b"\0" * 64)),
          field="XNN_LIMIT_MAX_ARRAY_BYTES"),
    _file("files_npz_beyond_float32.npz", lambda p: (np.savez(p, x=np.full((3, 4), 1e39)), p)[1], field="x[0, 0]"),
    _file("files_npz_beyond_float32_evaluate.npz",
          lambda p: (np.savez(p, x=np.ones((3, 4)), y=np.array([0.0, 1e39, 1.0])), p)[1],
          argv=_evaluate, field="y"),
    # -------- CSV
    _file("files_csv_big_cell.csv", _csv_big_cell, field="XNN_LIMIT_MAX_CSV_CELL_BYTES"),
    _file("files_csv_wide_row.csv", _csv_wide_row, field="columns"),
    _file("files_csv_nul.csv", _write_bytes(lambda: b"a,b,c,d\n1,2,\x003,4\n"), field="NUL"),
    _file("files_csv_not_utf8.csv", _write_bytes(lambda: b"a,b,c,d\n1,2,3,\xff\xfe\n"), field="UTF-8"),
    _file("files_csv_beyond_float32.csv", _write_bytes(lambda: b"a,b,c,d\n1,2,3,4\n1,2,3e39,4\n"),
          field="features[1, 2]"),
    # -------- .mat v5 headers that lie
    _file("files_mat5_declares_huge.mat", _v5_declares_huge, field="XNN_LIMIT_MAX_ARRAY_BYTES"),
    _file("files_mat5_unknown_type.mat", _v5_unknown_type, field="unknown MAT data type 265"),
    # -------- xnn import of .mat files
    Case("files_import_mat73_external_storage", lambda ctx: _import_external(ctx.dir / "w.mat"), _import,
         field="external"),
    Case("files_import_mat73_external_link", lambda ctx: _import_external_link(ctx.dir / "w.mat"), _import,
         field="external link"),
    Case("files_import_mat73_soft_dangling", lambda ctx: _import_soft_dangling(ctx.dir / "w.mat"), _import,
         field="dangling"),
    Case("files_import_mat73_declares_huge", lambda ctx: _import_declares_huge(ctx.dir / "w.mat"), _import,
         field="XNN_LIMIT_MAX_ARRAY_BYTES"),
    Case("files_import_mat73_zeroed", lambda ctx: _import_zeroed(ctx.dir / "w.mat"), _import, field="variable layers"),
    Case("files_import_mat_deep_spec_json", lambda ctx: _import_deep_json(ctx.dir / "w.mat"), _import,
         field="spec_json"),
]
