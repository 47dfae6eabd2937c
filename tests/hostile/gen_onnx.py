"""Hostile ONNX files (built with onnx.helper, or as raw protobuf bytes where onnx.helper would
refuse to build them) for ``xnn import``, and hostile ``--opset`` values for ``xnn export``.

Every file is a few KB (the node-count case is 2 MB, written at test time); what it *asks for*
is large: folded constants of gigabytes, tensors declaring 10^12 elements, a million nodes,
subgraphs nested 3,000 deep, external data that escapes, overlaps or names a NUL byte.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from tests.hostile.corpus import Case, Ctx


def _h():
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    return onnx, TensorProto, helper, numpy_helper


def _vi(name: str, shape, elem=None):
    _, TensorProto, helper, _ = _h()
    return helper.make_tensor_value_info(name, elem or TensorProto.FLOAT, shape)


def _model(nodes, inits=(), opset: int | None = 17, inp=None, out=None, value_info=(), opsets=None):
    """A one-input, one-output model: ``x`` (N, 4) -> ``y`` (N, 2) unless told otherwise."""
    _, _, helper, _ = _h()
    g = helper.make_graph(list(nodes), "hostile", [inp if inp is not None else _vi("x", ["N", 4])],
                          [out if out is not None else _vi("y", ["N", 2])], initializer=list(inits),
                          value_info=list(value_info))
    ops = opsets if opsets is not None else [helper.make_opsetid("", opset)]
    m = helper.make_model(g, opset_imports=ops)
    m.ir_version = 8
    return m


def _write(ctx: Ctx, name: str, model_or_bytes) -> Path:
    p = ctx.dir / name
    data = model_or_bytes if isinstance(model_or_bytes, bytes) else model_or_bytes.SerializeToString()
    p.write_bytes(data)
    return p


def _w():
    _, _, _, numpy_helper = _h()
    return numpy_helper.from_array(np.ones((2, 4), np.float32), "W")


def _gemm(x: str = "x", y: str = "g"):
    _, _, helper, _ = _h()
    return helper.make_node("Gemm", [x, "W"], [y], transB=1)


def _i64(name: str, values):
    _, _, _, numpy_helper = _h()
    return numpy_helper.from_array(np.asarray(values, np.int64), name)


def _bias_from(const_nodes, inits, c: str = "c"):
    """Gemm(x) + c, where ``c`` comes from ``const_nodes``: the importer folds c first."""
    _, _, helper, _ = _h()
    return _model([*const_nodes, _gemm(), helper.make_node("Add", ["g", c], ["y"])], [_w(), *inits])


def _import(ctx: Ctx, path: Path) -> list:
    return ["import", path, "--out", ctx.dir / "imp"]


# --------------------------------------------------------------------------- constant folding
def make_fold_constantofshape(ctx: Ctx) -> Path:
    _, _, helper, _ = _h()
    return _write(ctx, "fold_cos.onnx", _bias_from([helper.make_node("ConstantOfShape", ["s"], ["c"])],
                                                   [_i64("s", [750_000_000])]))


def make_fold_expand(ctx: Ctx) -> Path:
    _, _, helper, numpy_helper = _h()
    one = numpy_helper.from_array(np.ones((1,), np.float32), "one")
    return _write(ctx, "fold_expand.onnx", _bias_from([helper.make_node("Expand", ["one", "s"], ["c"])],
                                                      [one, _i64("s", [100_000, 100_000])]))


def make_fold_tile(ctx: Ctx) -> Path:
    _, _, helper, numpy_helper = _h()
    v = numpy_helper.from_array(np.ones((2,), np.float32), "v")
    return _write(ctx, "fold_tile.onnx", _bias_from([helper.make_node("Tile", ["v", "r"], ["c"])],
                                                    [v, _i64("r", [10**9])]))


def make_fold_range(ctx: Ctx) -> Path:
    _, _, helper, numpy_helper = _h()
    f = [numpy_helper.from_array(np.array(v, np.float32), n) for v, n in ((0, "a"), (1e9, "b"), (1, "d"))]
    return _write(ctx, "fold_range.onnx", _bias_from([helper.make_node("Range", ["a", "b", "d"], ["c"])], f))


def make_fold_broadcast(ctx: Ctx) -> Path:
    _, TensorProto, helper, _ = _h()
    nodes = [helper.make_node("ConstantOfShape", ["s1"], ["p"]), helper.make_node("ConstantOfShape", ["s2"], ["q"]),
             helper.make_node("Mul", ["p", "q"], ["c"])]  # (40000, 1) * (1, 40000): 6.4 GB
    return _write(ctx, "fold_mul.onnx", _bias_from(nodes, [_i64("s1", [40_000, 1]), _i64("s2", [1, 40_000])]))


def make_fold_gather(ctx: Ctx) -> Path:
    _, TensorProto, helper, _ = _h()
    zero = helper.make_tensor("z", TensorProto.INT64, [1], [0])
    nodes = [helper.make_node("ConstantOfShape", ["s1"], ["table"]),  # (1000, 1000) float32: 4 MB
             helper.make_node("ConstantOfShape", ["s2"], ["idx"], value=zero),  # 100000 zeros
             helper.make_node("Gather", ["table", "idx"], ["c"])]  # (100000, 1000): 400 MB
    return _write(ctx, "fold_gather.onnx", _bias_from(nodes, [_i64("s1", [1000, 1000]), _i64("s2", [100_000])]))


def make_fold_concat_doubling(ctx: Ctx) -> Path:
    _, _, helper, _ = _h()
    nodes = [helper.make_node("ConstantOfShape", ["s"], ["c0"])]
    for i in range(40):  # 4 KB doubling 40 times
        nodes.append(helper.make_node("Concat", [f"c{i}", f"c{i}"], [f"c{i + 1}"], axis=0))
    return _write(ctx, "fold_concat.onnx", _bias_from(nodes, [_i64("s", [1024])], c="c40"))


def make_fold_negative_shape(ctx: Ctx) -> Path:
    _, _, helper, _ = _h()
    return _write(ctx, "fold_negative.onnx", _bias_from([helper.make_node("ConstantOfShape", ["s"], ["c"])],
                                                        [_i64("s", [-5, 2])]))


# --------------------------------------------------------------------------- opsets
def make_opset(version: int, name: str):
    def make(ctx: Ctx) -> Path:
        return _write(ctx, name, _model([_gemm(y="y")], [_w()], opset=version))
    return make


def make_no_default_opset(ctx: Ctx) -> Path:
    _, _, helper, _ = _h()
    return _write(ctx, "no_ai_onnx.onnx", _model([_gemm(y="y")], [_w()], opsets=[helper.make_opsetid("com.evil", 1)]))


def _export_opset(opset: str, *extra: str):
    def argv(ctx: Ctx, path: Path) -> list:
        return ["export", ctx.spec, "--onnx", ctx.dir / "out.onnx", "--opset", opset, *extra]
    return argv


# --------------------------------------------------------------------------- tensors
def _raw_tensor(name: str, dims, raw: bytes):
    _, TensorProto, _, _ = _h()
    t = TensorProto()
    t.name, t.data_type = name, TensorProto.FLOAT
    t.dims.extend(dims)
    t.raw_data = raw
    return t


def make_init_huge_dims(ctx: Ctx) -> Path:
    return _write(ctx, "init_huge.onnx", _model([_gemm(y="y")], [_raw_tensor("W", [10**6, 10**6], b"\0" * 8)]))


def make_init_negative_dims(ctx: Ctx) -> Path:
    return _write(ctx, "init_negative.onnx", _model([_gemm(y="y")], [_raw_tensor("W", [-2, -4], b"\0" * 32)]))


def make_init_rank(ctx: Ctx) -> Path:
    return _write(ctx, "init_rank.onnx", _model([_gemm(y="y")], [_raw_tensor("W", [1] * 40, b"\0" * 4)]))


def make_init_short_data(ctx: Ctx) -> Path:
    return _write(ctx, "init_short.onnx", _model([_gemm(y="y")], [_raw_tensor("W", [2000, 4], b"\0" * 32)]))


def make_constant_attr_huge(ctx: Ctx) -> Path:
    _, _, helper, _ = _h()
    c = helper.make_node("Constant", [], ["c"], value=_raw_tensor("cv", [10**7, 10**7], b"\0" * 4))
    return _write(ctx, "const_attr.onnx", _model([c, _gemm(), helper.make_node("Add", ["g", "c"], ["y"])], [_w()]))


def make_input_huge_dims(ctx: Ctx) -> Path:
    return _write(ctx, "input_huge.onnx", _model([_gemm(y="y")], [_w()], inp=_vi("x", ["N", 10**6, 10**6])))


def make_input_overflow_dims(ctx: Ctx) -> Path:
    return _write(ctx, "input_i64max.onnx", _model([_gemm(y="y")], [_w()], inp=_vi("x", ["N", 2**63 - 1])))


def make_input_rank(ctx: Ctx) -> Path:
    return _write(ctx, "input_rank.onnx", _model([_gemm(y="y")], [_w()], inp=_vi("x", ["N", *[1] * 40])))


def make_value_info_negative(ctx: Ctx) -> Path:
    return _write(ctx, "vi_negative.onnx", _model([_gemm(y="y")], [_w()], value_info=[_vi("g", ["N", -7])]))


def make_value_info_huge(ctx: Ctx) -> Path:
    return _write(ctx, "vi_huge.onnx", _model([_gemm(y="y")], [_w()], value_info=[_vi("y2", [10**9, 10**9])]))


def make_conv_huge_pads(ctx: Ctx) -> Path:
    _, _, helper, numpy_helper = _h()
    w = numpy_helper.from_array(np.ones((2, 1, 3, 3), np.float32), "W")
    p = 10**9
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"], pads=[p, p, p, p]),
             helper.make_node("Flatten", ["c"], ["y"])]
    return _write(ctx, "conv_pads.onnx", _model(nodes, [w], inp=_vi("x", ["N", 1, 8, 8]), out=_vi("y", ["N", None])))


# --------------------------------------------------------------------------- graph structure
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _field(num: int, payload: bytes) -> bytes:
    """A length-delimited protobuf field."""
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def make_deep_subgraphs(ctx: Ctx) -> Path:
    """If nodes nested 3,000 deep (protobuf and onnx.helper refuse to build this; raw bytes do)."""
    graph = _field(2, b"leaf")  # GraphProto.name
    for _ in range(3000):
        attr = _field(1, b"then_branch") + _varint(20 << 3) + _varint(5) + _field(6, graph)  # name, type=GRAPH, g
        node = _field(1, b"c") + _field(2, b"y") + _field(4, b"If") + _field(5, attr)  # input, output, op_type, attribute
        graph = _field(1, node) + _field(2, b"g")
    model = _varint(1 << 3) + _varint(8) + _field(7, graph) + _field(8, _field(1, b"") + _varint(2 << 3) + _varint(17))
    return _write(ctx, "deep_if.onnx", model)


def make_many_nodes(ctx: Ctx) -> Path:
    """A valid model followed by a million empty NodeProtos (2 bytes each)."""
    m = _model([_gemm(y="y")], [_w()])
    graph = m.graph.SerializeToString() + b"\x0a\x00" * 1_000_000
    m.ClearField("graph")
    return _write(ctx, "many_nodes.onnx", m.SerializeToString() + _field(7, graph))


def make_many_initializers(ctx: Ctx) -> Path:
    """A valid model followed by a million empty initializers (2 bytes each)."""
    m = _model([_gemm(y="y")], [_w()])
    graph = m.graph.SerializeToString() + b"\x2a\x00" * 1_000_000
    m.ClearField("graph")
    return _write(ctx, "many_inits.onnx", m.SerializeToString() + _field(7, graph))


def make_cycle(ctx: Ctx) -> Path:
    _, _, helper, _ = _h()
    nodes = [helper.make_node("Add", ["x", "b"], ["a"]), helper.make_node("Relu", ["a"], ["b"]), _gemm("a", "y")]
    return _write(ctx, "cycle.onnx", _model(nodes, [_w()]))


def make_duplicate_outputs(ctx: Ctx) -> Path:
    _, _, helper, _ = _h()
    nodes = [helper.make_node("Relu", ["x"], ["a"]), helper.make_node("Sigmoid", ["x"], ["a"]), _gemm("a", "y")]
    return _write(ctx, "dup_outputs.onnx", _model(nodes, [_w()]))


# --------------------------------------------------------------------------- external data
def _external(name: str, location: str, offset: int = 0, length: int = 32, dims=(2, 4)):
    _, TensorProto, _, _ = _h()
    t = TensorProto()
    t.name, t.data_type = name, TensorProto.FLOAT
    t.dims.extend(dims)
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", str(offset)), ("length", str(length))):
        e = t.external_data.add()
        e.key, e.value = k, v
    return t


def make_external_nul(ctx: Ctx) -> Path:
    return _write(ctx, "ext_nul.onnx", _model([_gemm(y="y")], [_external("W", "w.bin\0../../etc/passwd")]))


def make_external_long_name(ctx: Ctx) -> Path:
    return _write(ctx, "ext_long.onnx", _model([_gemm(y="y")], [_external("W", "a" * 5000)]))


def make_external_folder(ctx: Ctx) -> Path:
    (ctx.dir / "weights_dir").mkdir()
    return _write(ctx, "ext_folder.onnx", _model([_gemm(y="y")], [_external("W", "weights_dir")]))


def make_external_overlap(ctx: Ctx) -> Path:
    _, _, helper, _ = _h()
    (ctx.dir / "w.bin").write_bytes(b"\0" * 64)
    nodes = [_gemm(y="g"), helper.make_node("Add", ["g", "B"], ["y"])]
    inits = [_external("W", "w.bin", 0, 32), _external("B", "w.bin", 16, 8, dims=(2,))]
    return _write(ctx, "ext_overlap.onnx", _model(nodes, inits))


def make_external_wrong_length(ctx: Ctx) -> Path:
    (ctx.dir / "w.bin").write_bytes(b"\0" * 64)
    return _write(ctx, "ext_length.onnx", _model([_gemm(y="y")], [_external("W", "w.bin", 0, 64)]))


def make_external_symlink_out(ctx: Ctx) -> Path:
    os.symlink("/etc/passwd", ctx.dir / "w.bin")
    return _write(ctx, "ext_symlink.onnx", _model([_gemm(y="y")], [_external("W", "w.bin", 0, 32)]))


def _c(name, make, field, argv=_import, **kw) -> Case:
    return Case(f"onnx_{name}", make, argv, field=field, **kw)


CASES: list[Case] = [
    _c("fold_constantofshape", make_fold_constantofshape, "XNN_LIMIT_MAX_FOLDED_BYTES"),
    _c("fold_expand", make_fold_expand, "XNN_LIMIT_MAX_FOLDED_BYTES"),
    _c("fold_tile", make_fold_tile, "Tile"),
    _c("fold_range", make_fold_range, "XNN_LIMIT_MAX_FOLDED_BYTES"),
    _c("fold_broadcast_mul", make_fold_broadcast, "XNN_LIMIT_MAX_FOLDED_BYTES"),
    _c("fold_gather", make_fold_gather, "XNN_LIMIT_MAX_FOLDED_BYTES"),
    _c("fold_concat_doubling", make_fold_concat_doubling, "XNN_LIMIT_MAX_FOLDED_BYTES"),
    _c("fold_negative_shape", make_fold_negative_shape, "negative dimension"),
    _c("opset_99", make_opset(99, "opset99.onnx"), "opset 99"),
    _c("opset_3", make_opset(3, "opset3.onnx"), "opset 3"),
    _c("opset_missing", make_no_default_opset, "no ai.onnx opset"),
    _c("export_opset_99", lambda ctx: ctx.spec, "opset 99", _export_opset("99"), names_file=False),
    _c("export_opset_99_via_torch", lambda ctx: ctx.spec, "opset 99", _export_opset("99", "--via", "torch"),
       names_file=False),
    _c("export_opset_negative", lambda ctx: ctx.spec, "opset -1", _export_opset("-1"), names_file=False),
    _c("init_huge_dims", make_init_huge_dims, "XNN_LIMIT_MAX_ARRAY_BYTES"),
    _c("init_negative_dims", make_init_negative_dims, "negative dimension"),
    _c("init_rank_40", make_init_rank, "XNN_LIMIT_MAX_ARRAY_DIMS"),
    _c("init_short_data", make_init_short_data, "bytes of data for dims"),
    _c("constant_attr_huge", make_constant_attr_huge, "XNN_LIMIT_MAX_ARRAY_BYTES"),
    _c("input_huge_dims", make_input_huge_dims, "XNN_LIMIT_MAX_ARRAY_BYTES"),
    _c("input_int64_max_dim", make_input_overflow_dims, "XNN_LIMIT_MAX_ARRAY_BYTES"),
    _c("input_rank_40", make_input_rank, "XNN_LIMIT_MAX_ARRAY_DIMS"),
    _c("value_info_negative", make_value_info_negative, "negative dimension"),
    _c("value_info_huge", make_value_info_huge, "XNN_LIMIT_MAX_ARRAY_BYTES"),
    _c("conv_huge_pads", make_conv_huge_pads, "XNN_LIMIT_MAX_ARRAY_BYTES"),
    _c("deep_subgraphs", make_deep_subgraphs, "not a readable ONNX file"),
    _c("million_nodes", make_many_nodes, "XNN_LIMIT_MAX_ONNX_NODES"),
    _c("million_initializers", make_many_initializers, "XNN_LIMIT_MAX_ONNX_NODES"),
    _c("cycle", make_cycle, "topologically sorted"),
    _c("duplicate_outputs", make_duplicate_outputs, "'a'"),
    _c("external_nul", make_external_nul, "NUL byte"),
    _c("external_long_name", make_external_long_name, "'W'"),
    _c("external_folder", make_external_folder, "not a regular file"),
    _c("external_overlap", make_external_overlap, "overlapping"),
    _c("external_wrong_length", make_external_wrong_length, "64 bytes of external data"),
    _c("external_symlink_out", make_external_symlink_out, "outside the model's folder"),
]
