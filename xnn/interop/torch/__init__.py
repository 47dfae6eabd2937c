"""PyTorch modules into xnn without files: :func:`from_torch` ``(module, example_input) ->
(spec_dict, params)``.

The route: ``torch.onnx.export`` (the TorchScript exporter, ``dynamo=False``) into memory, then
xnn's ONNX importer on the in-memory model. Why TorchScript and not ``dynamo=True``:

- it keeps BatchNormalization as its own node (``training=PRESERVE`` on an eval-mode module),
  so an imported model holds PyTorch's very parameters (``weight``, ``bias``, running statistics)
  and continues training as the module would; the dynamo exporter folds BatchNorm into the
  preceding convolution (another parameterization: the same function, different training);
- its node names are the module paths (``/layer1/layer1.0/conv1/Conv``): xnn's node names and
  every refusal then name the torch module;
- it takes ~0.2-0.5 s for a small model where ``dynamo=True`` takes several seconds (bench/bench_import.py
  measures both on a ResNet-50-sized module).

torch.export/FX directly would need a second importer (one conversion per aten op and module) to
reach what the ONNX importer already does, with its layout tracking (channels-first ONNX views of
channels-last xnn tensors) and its exact conversions; the ONNX route was chosen for that reason.

Dropout: an eval-mode export drops ``nn.Dropout`` modules, so during the export each
``nn.Dropout``/``Dropout1d``/``Dropout2d`` module is written as an inference ONNX ``Dropout``
with its rate (``Dropout1d``/``2d`` marked as xnn's SpatialDropout); the importer makes them
Dropout / SpatialDropout nodes. Functional ``F.dropout`` calls inside ``forward`` leave no trace
in an eval-mode export and are not imported.

Attention: during the export each ``nn.MultiheadAttention`` is written as one ``xnn::MultiHeadAttention``
node with the module's weights (:mod:`.attention`), read by the importer as xnn's MultiHeadAttention
(``in_proj_weight`` split into q/k/v, ``out_proj``; a causal ``attn_mask`` as ``causal``); a
``key_padding_mask``, another ``attn_mask``, ``add_bias_kv``/``add_zero_attn`` or different key and
value tensors are refused. ``nn.TransformerEncoderLayer`` / ``nn.TransformerEncoder`` then import as
torch's own decomposition (MultiHeadAttention, Dropout, Add, LayerNorm, Dense, Activation), their
three dropouts kept; torch's fused MHA fast paths are off while the export runs. Decoders and
``nn.Transformer`` stay refused.

Nothing here is imported by ``import xnn``; torch and onnx are imported when :func:`from_torch`
is called.
"""
from __future__ import annotations

import io
import re
import warnings

import numpy as np

from ...errors import FormatError, XnnError

__all__ = ["from_torch", "from_torch_full"]

OPSET = 20  # the TorchScript exporter's newest: Gelu is an op from 20 (an Erf expression before)

# torch modules the import cannot express today, with the reason (checked before exporting, so
# that they are all listed at once with what the importer refuses)
_NO_IMPORT = {
    "TransformerDecoderLayer": "not imported: a decoder layer reads a second tensor (memory) and is not mapped yet "
                               "(build it from xnn's MultiHeadAttention, LayerNorm and Dense)",
    "TransformerDecoder": "not imported: decoder layers read a second tensor (memory) and are not mapped yet",
    "Transformer": "takes two inputs (src, tgt); xnn models have one input (import its nn.TransformerEncoder)",
    "RNN": "xnn has LSTM and GRU, no plain (Elman) RNN",
    "RNNCell": "a recurrent cell called step by step (a Python loop) is not a layer; use nn.LSTM/nn.GRU",
    "LSTMCell": "a recurrent cell called step by step (a Python loop) is not a layer; use nn.LSTM",
    "GRUCell": "a recurrent cell called step by step (a Python loop) is not a layer; use nn.GRU",
}

_NODE_REF = re.compile(r"/[^\s',()]+")


def from_torch(module, example_input) -> tuple[dict, dict[str, np.ndarray]]:
    """A PyTorch ``nn.Module`` as ``(spec_dict, params)``: the dict :func:`xnn.from_dict` takes and
    canonical float64 params ``<node>.<param>`` (the module's own values: both LSTM biases,
    BatchNorm's running statistics; float64 modules stay float64, and then the spec trains in
    float64).

    ``example_input``: one batch as the module takes it (a tensor or array; ``(N, C, H, W)``
    images, ``(N, C, L)`` signals, ``(N, T, F)`` batch-first sequences, integer ids for an
    Embedding). Its per-sample shape becomes the spec's input shape (the batch size stays free).

    **Layout.** xnn is channels-last: an input that a convolution, pool or BatchNorm reads
    channels-first comes in as ``(H, W, C)`` (``(L, C)`` for 1-D), so feed xnn
    ``np.moveaxis(x, 1, -1)`` of the batch you give the module; sequences and flat inputs are fed
    as they are. A spatial output comes back channels-last too (``np.moveaxis(y, -1, 1)`` is the
    module's). :func:`from_torch_full` also returns ``info["input_axes"]`` /
    ``info["output_axes"]``, which :func:`xnn.interop.onnx.importer.to_xnn_input` and
    ``to_onnx_output`` apply exactly.

    Every module or operation that does not import is listed in one FormatError, each line
    naming the torch module (path and class)."""
    spec, params, _ = from_torch_full(module, example_input)
    return spec, params


def from_torch_full(module, example_input) -> tuple[dict, dict[str, np.ndarray], dict]:
    """:func:`from_torch` plus ``info``: ``input_axes`` and ``output_axes`` (ONNX axis ``i`` of the
    module's tensor holds xnn batch axis ``axes[i]``) and ``output_perm`` (see
    :func:`xnn.interop.onnx.importer.import_onnx_full`)."""
    import torch

    if not isinstance(module, torch.nn.Module):
        raise FormatError(f"from_torch expects a torch.nn.Module (received {type(module).__name__})")
    where = f"from_torch({type(module).__name__})"
    x = _example(example_input, module, where)
    problems = _known_unsupported(module)
    n_known = len(problems)
    model = None
    try:
        model = _export(module, x, where, problems)
    except FormatError as e:
        problems += e.messages
    if model is not None and len(problems) > n_known:
        model = None  # a refused MultiheadAttention ran its own forward: its trace is not imported
    if model is not None:
        from ..onnx.importer import _import

        try:
            spec, params, *rest = _import(model, where)
            views = rest[0] if rest else {}
        except XnnError as e:
            problems += [_annotate(m, module) for m in e.messages]
        except Exception as e:  # noqa: BLE001  the importer's own guard for files, for an in-memory model
            problems.append(f"cannot import ({type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''})")
    if problems:
        raise FormatError(list(dict.fromkeys(problems)), source=where)
    spec["name"] = re.sub(r"[^A-Za-z0-9_]", "_", type(module).__name__)[:63] or "torch_model"
    for node in spec["model"]:
        if node.get("type") == "BatchNorm" and "momentum" in node:
            # ONNX stores 1 - momentum as float32: keep the decimal torch was given (0.1, not 0.09999999999999998)
            node["momentum"] = float(f"{node['momentum']:.7g}")
    if spec["input"].get("dtype") == "float64" or x.dtype == torch.float64:
        spec.setdefault("train", {})["dtype"] = "float64"
    from ...spec import from_dict

    from_dict(spec)  # still valid (the importer validated it; the edits above keep it so)
    return spec, {k: np.array(v, dtype=np.float64) for k, v in params.items()}, views


def _example(x, module, where: str):
    import torch

    if isinstance(x, (tuple, list)):
        if len(x) != 1:
            raise FormatError(f"{where}: example_input holds {len(x)} tensors; xnn models have one input")
        x = x[0]
    if isinstance(x, np.ndarray):
        x = torch.from_numpy(np.ascontiguousarray(x))
    if not isinstance(x, torch.Tensor):
        raise FormatError(f"{where}: example_input must be a tensor or array (received {type(x).__name__})")
    if x.dim() < 2:
        raise FormatError(f"{where}: example_input of shape {list(x.shape)} has no batch axis (N, ...)")
    return x.detach()


def _known_unsupported(module) -> list[str]:
    out, skip = [], []
    for name, m in module.named_modules():
        if any(name == s or name.startswith(s + ".") for s in skip):
            continue
        cls = type(m).__name__
        if cls in _NO_IMPORT and type(m).__module__.startswith("torch.nn"):
            out.append(f"module {name or '(the model)'!r} ({cls}): {_NO_IMPORT[cls]}")
            skip.append(name)
    return out


class _Dropout:
    """An inference ONNX ``Dropout`` with the module's rate (eval-mode exports drop dropout)."""

    fn = None

    @classmethod
    def get(cls):
        if cls.fn is None:
            import torch

            class KeepDropout(torch.autograd.Function):
                @staticmethod
                def forward(ctx, x, p):
                    return x.clone()

                @staticmethod
                def symbolic(g, x, p):
                    ratio = g.op("Constant", value_t=torch.tensor(float(p), dtype=torch.float32))
                    no = g.op("Constant", value_t=torch.tensor(False))
                    return g.op("Dropout", x, ratio, no)

            cls.fn = KeepDropout
        return cls.fn


def _export(module, x, where: str, problems: list[str]):
    """The module as an in-memory ONNX model; a MultiheadAttention that cannot be written as one
    xnn node appends its reasons to ``problems`` (see :mod:`.attention`)."""
    import onnx
    import torch

    from . import attention

    drops = {n: m for n, m in module.named_modules() if type(m) in (torch.nn.Dropout, torch.nn.Dropout1d,
                                                                     torch.nn.Dropout2d)}
    fn = _Dropout.get()
    was_training = module.training
    buf = io.BytesIO()
    attns: dict = {}
    fast = torch.backends.mha.get_fastpath_enabled()
    try:
        module.eval()
        for m in drops.values():
            m.forward = _keep_dropout(fn, float(m.p))
        attns = attention.patch(module, problems)
        # eval-mode TransformerEncoderLayer/MultiheadAttention take fused fast paths (no ONNX export,
        # and they bypass the attention modules' forward) unless fast paths are off; not under
        # no_grad either, for the same reason
        torch.backends.mha.set_fastpath_enabled(False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notice, tracer warnings
            torch.onnx.export(module, (x,), buf, dynamo=False, opset_version=OPSET, input_names=["input"],
                              output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
                              training=torch.onnx.TrainingMode.PRESERVE)
    except Exception as e:  # noqa: BLE001  torch raises many types; one line names it
        first = str(e).strip().splitlines()[0][:300] if str(e).strip() else ""
        raise FormatError(f"torch.onnx.export failed ({type(e).__name__}: {first})") from None
    finally:
        torch.backends.mha.set_fastpath_enabled(fast)
        attention.unpatch(attns)
        for m in drops.values():
            m.__dict__.pop("forward", None)
        module.train(was_training)
    model = onnx.load_from_string(buf.getvalue())
    attention.for_importer(model)
    kinds = {"/".join(_path_parts(n)): type(m).__name__ for n, m in drops.items()}
    for node in model.graph.node:  # Dropout1d/2d: whole channels, xnn's SpatialDropout (its export's mark)
        if node.op_type == "Dropout":
            path = _module_path(node.name, module)
            cls = kinds.get("/".join(_path_parts(path))) if path else None
            if cls in ("Dropout1d", "Dropout2d"):
                node.doc_string = f"xnn SpatialDropout{cls[-2:].upper()}: torch {cls} {path}"
    return model


def _keep_dropout(fn, p: float):
    def forward(t):
        return fn.apply(t, p)

    return forward


def _path_parts(path: str) -> list[str]:
    return [p for p in path.split(".") if p]


def _module_path(onnx_name: str, module) -> str | None:
    """``/layer1/layer1.0/conv1/Conv`` -> ``layer1.0.conv1`` (TorchScript's scope names: each
    segment ends in the child's attribute name), when that is a submodule of ``module``."""
    segs = [s for s in onnx_name.split("/") if s]
    if len(segs) < 2:
        return None
    mods = dict(module.named_modules())
    path = ""
    for s in segs[:-1]:
        child = s.split(".")[-1]
        cand = f"{path}.{child}" if path else child
        if cand not in mods:
            return None
        path = cand
    return path


def _annotate(msg: str, module) -> str:
    """An importer message naming ONNX nodes, with the torch module of each appended."""
    found = []
    for ref in _NODE_REF.findall(msg):
        path = _module_path(ref, module)
        if path is not None and path not in [p for p, _ in found]:
            found.append((path, type(dict(module.named_modules())[path]).__name__))
    if not found:
        return msg
    return f"{msg} [module {', '.join(f'{p!r} ({c})' for p, c in found)}]"
