"""Compile a spec into a native ``torch.nn.Module`` taking channels-last batches."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .lowering import Ctx, lowerings

DTYPES = {"float32": torch.float32, "float64": torch.float64}


def to_cf(x: torch.Tensor) -> torch.Tensor:
    r = x.dim()
    return x.permute(0, r - 1, *range(1, r - 1)) if r >= 3 else x


def to_cl(x: torch.Tensor) -> torch.Tensor:
    r = x.dim()
    return x.permute(0, *range(2, r), 1) if r >= 3 else x


class XnnModule(nn.Module):
    """The compiled graph: ``layers`` holds one native module per node, by node name.

    ``forward(x)`` takes ``(N, *input.shape)`` channels-last and returns channels-last.
    Also usable as a plain module in user code (``state_dict``, optimizers, ``torch.compile``).
    """

    def __init__(self, spec, dtype=torch.float32, device="cpu"):
        super().__init__()
        low = lowerings()
        self.spec_name = spec.name
        self.xnn_dtype = dtype
        self.xnn_device = torch.device(device)
        self.layers = nn.ModuleDict()
        self._plan: list[tuple[str, list[tuple[str, str | None]]]] = []
        layouts = {"input": "cl"}
        ranks = {"input": len(spec.input_shape)}
        for node in spec.nodes:
            lw = low[node.kind]
            first = layouts[node.inputs[0]]
            want = first if lw.layout == "any" else lw.layout
            convs = []
            for i in node.inputs:
                conv = None
                if ranks[i] >= 2 and layouts[i] != want:
                    conv = want
                convs.append((i, conv))
            self.layers[node.name] = lw.build(node, Ctx(want, dtype, device))
            self._plan.append((node.name, convs))
            ranks[node.name] = len(node.out_shape)
            layouts[node.name] = want if ranks[node.name] >= 2 else "cl"
        self._out = spec.nodes[-1].name
        self._out_layout = layouts[self._out]
        # a plain chain (each node reads the previous one, at most one permute) runs without the
        # name lookups of the general graph walk: Python overhead matters on small models
        prev = "input"
        chain = True
        for name, ins in self._plan:
            chain = chain and len(ins) == 1 and ins[0][0] == prev
            prev = name
        self._chain = [(name, ins[0][1]) for name, ins in self._plan] if chain else None
        self.to(dtype=dtype, device=device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mods = self.layers._modules  # by name, so a node module the user replaces is the one run
        if self._chain is not None:
            for name, conv in self._chain:
                x = mods[name](convert(x, conv))
            return to_cl(x) if self._out_layout == "cf" else x
        out = run_plan(mods, self._plan, {"input": x})[self._out]
        return to_cl(out) if self._out_layout == "cf" else out


def convert(x: torch.Tensor, layout: str | None) -> torch.Tensor:
    """Permute to ``cf``/``cl`` (no-op for None)."""
    if layout is None:
        return x
    return to_cf(x) if layout == "cf" else to_cl(x)


def run_plan(mods, plan, acts: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Walk ``plan`` [(node, [(input, layout or None)])] over modules ``mods`` (by node name):
    each node's inputs, permuted where neighbours' layouts differ, into its module. Returns
    ``acts`` with every node's output."""
    for name, ins in plan:
        acts[name] = mods[name](*[convert(acts[i], conv) for i, conv in ins])
    return acts


def build(spec, params: dict[str, np.ndarray] | None = None, dtype: str = "float32", device: str = "cpu") -> XnnModule:
    """Native torch model for ``spec``; loads ``params`` (canonical) when given, else seeded init."""
    from ...init import init_params

    model = XnnModule(spec, DTYPES[dtype], torch.device(device))
    model._xnn_spec = spec
    set_params(model, params if params is not None else init_params(spec))
    return model


def set_params(model: XnnModule, params: dict[str, np.ndarray]) -> None:
    """Load canonical params (and buffers) into the model, exactly."""
    spec = model._xnn_spec
    low = lowerings()
    sd = model.state_dict()
    new = {}
    for node in spec.nodes:
        mine = {k: params[f"{node.name}.{k}"] for k in node.params}
        for k, v in low[node.kind].to_native(node, mine).items():
            key = f"layers.{node.name}.{k}"
            ref = sd[key]
            new[key] = torch.as_tensor(np.ascontiguousarray(v), dtype=ref.dtype, device=ref.device).reshape(ref.shape)
    model.load_state_dict(new, strict=False)


def get_params(model: XnnModule) -> dict[str, np.ndarray]:
    """Canonical params (float64 NumPy copies) of a compiled model."""
    spec = model._xnn_spec
    low = lowerings()
    sd = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    out = {}
    for node in spec.nodes:
        pre = f"layers.{node.name}."
        mine = {k[len(pre):]: v for k, v in sd.items() if k.startswith(pre)}
        for k, v in low[node.kind].from_native(node, mine).items():
            out[f"{node.name}.{k}"] = np.array(v, dtype=np.float64).reshape(node.params[k].shape)
    return out


def predict(model: XnnModule, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Evaluation-mode forward on NumPy input, batched; returns NumPy."""
    dtype, device = model.xnn_dtype, model.xnn_device
    was = model.training
    model.eval()
    outs = []
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            xb = torch.as_tensor(x[i:i + batch_size], device=device)
            if xb.is_floating_point():
                xb = xb.to(dtype)
            outs.append(model(xb).cpu().numpy())
    model.train(was)
    return np.concatenate(outs) if outs else np.zeros((0, *model._xnn_spec.output.out_shape))
