"""Magnitude pruning of a trained run: the smallest-|w| entries of every Dense and convolution
``weight`` set to zero (unstructured), globally or per layer, then optional fine-tuning on either
backend with the zeros kept.

Exactness. ``global``: ``round(sparsity x N)`` entries over all N prunable weights are zeroed
(ties broken by a stable sort, so the count is exact); ``layer``: ``round(sparsity x n)`` in
each tensor of n entries. Biases, normalisation, embeddings and attention are not pruned.

Fine-tuning goes through the one loop (:func:`xnn.train.fit`) with a wrapping engine
(:class:`MaskedEngine`): after every optimizer step it multiplies the pruned weights by their
masks (through ``get_params``/``set_params``, so it works for every backend and layout; it costs
two weight copies per step). ``loop.py`` and ``engine.py`` are untouched. The result is a
normal run folder; its manifest holds ``pruning`` and ``pruning.json`` the full report. Resuming
that folder with ``xnn train --resume`` would continue *without* masks.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OutputError, SpecError
from ..train.engine import EngineBase

SCOPES = ("global", "layer")


def prunable(spec) -> list[str]:
    """Canonical names of the weights pruning applies to: Dense and convolution ``weight``s."""
    from ..layers._conv_base import _ConvBase

    bases: tuple[type, ...] = (_ConvBase,)
    try:
        from ..layers._conv_transpose import _ConvTransposeBase

        bases += (_ConvTransposeBase,)
    except ImportError:
        pass
    return [f"{n.name}.weight" for n in spec.nodes
            if "weight" in n.params and (n.kind == "Dense" or isinstance(n.layer, bases))]


def n_pruned(n: int, sparsity: float) -> int:
    """Entries zeroed out of ``n``: ``round(sparsity x n)``, halves rounded up."""
    return math.floor(sparsity * n + 0.5)


def magnitude_masks(spec, params: dict[str, np.ndarray], sparsity: float, scope: str = "global") -> dict[str, np.ndarray]:
    """``{name: mask}`` (1 = kept, 0 = pruned) for the prunable weights."""
    if not 0.0 <= sparsity < 1.0:
        raise SpecError(f"--prune: sparsity must be in [0, 1) (received {sparsity})")
    if scope not in SCOPES:
        raise SpecError(f"--scope: must be one of {list(SCOPES)} (received {scope!r})")
    names = prunable(spec)
    if not names:
        raise SpecError(f"{spec.name}: has no Dense or convolution weights to prune")
    masks = {}
    if scope == "global":
        flat = np.concatenate([np.abs(np.asarray(params[k], np.float64)).ravel() for k in names])
        keep = np.ones(flat.size, dtype=bool)
        keep[np.argsort(flat, kind="stable")[:n_pruned(flat.size, sparsity)]] = False
        i = 0
        for k in names:
            n = params[k].size
            masks[k] = keep[i:i + n].reshape(params[k].shape).astype(np.float64)
            i += n
    else:
        for k in names:
            a = np.abs(np.asarray(params[k], np.float64)).ravel()
            keep = np.ones(a.size, dtype=bool)
            keep[np.argsort(a, kind="stable")[:n_pruned(a.size, sparsity)]] = False
            masks[k] = keep.reshape(params[k].shape).astype(np.float64)
    return masks


def apply_masks(params: dict[str, np.ndarray], masks: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: (np.asarray(v) * masks[k]).astype(np.asarray(v).dtype) if k in masks else v for k, v in params.items()}


def sparsity_of(params: dict[str, np.ndarray], names: list[str]) -> dict[str, Any]:
    """Exact zero counts of ``names`` in ``params``: per tensor and in total."""
    per = {k: [int(np.count_nonzero(np.asarray(params[k]) == 0)), int(np.asarray(params[k]).size)] for k in names}
    z, n = sum(v[0] for v in per.values()), sum(v[1] for v in per.values())
    return {"zeros": z, "size": n, "sparsity": z / n if n else 0.0, "tensors": per}


class MaskedEngine(EngineBase):
    """An engine that re-applies pruning masks after every step of the engine it wraps."""

    def __init__(self, inner, masks: dict[str, np.ndarray]):
        self.inner, self.masks = inner, masks
        self._mask()

    rank = property(lambda self: self.inner.rank)
    world = property(lambda self: self.inner.world)
    step = property(lambda self: self.inner.step)
    model = property(lambda self: getattr(self.inner, "model", None))

    def _mask(self) -> None:
        self.inner.set_params(apply_masks(self.inner.get_params(), self.masks))

    def train_step(self, xb, yb):
        settled = self.inner.train_step(xb, yb)
        self._mask()
        return settled

    def flush(self):
        settled = self.inner.flush()
        if settled:
            self._mask()
        return settled

    def lr(self):
        return self.inner.lr()

    def evaluate(self, x, y):
        return self.inner.evaluate(x, y)

    def get_params(self):
        return self.inner.get_params()

    def set_params(self, params):
        self.inner.set_params(apply_masks(params, self.masks))

    def state(self):
        return self.inner.state()

    def load_state(self, state):
        self.inner.load_state(state)

    def share(self, obj):
        return self.inner.share(obj)

    def want_gradients(self):  # logging (train.tensorboard): the wrapped engine's gradients
        f = getattr(self.inner, "want_gradients", None)
        if f is not None:
            f()

    def last_gradients(self):
        f = getattr(self.inner, "last_gradients", None)
        return f() if f is not None else None

    def barrier(self):
        self.inner.barrier()

    def close(self):
        self.inner.close()


def _check_out(out: Path, run_dir: Path) -> None:
    import os

    o, r = Path(os.path.abspath(out)), Path(os.path.abspath(run_dir))
    if o == r or o in r.parents:
        raise OutputError(f"{out}: --out is the run itself or a folder holding it ({run_dir}); it is never "
                          f"replaced, choose another path")
    for p in ("spec.yaml", "weights.safetensors", "manifest.json", "metrics.json", "checkpoints"):
        if r / p == o or (r / p) in o.parents:
            raise OutputError(f"{out}: --out is inside the run's own {p}; choose another path")


def prune_run(run_dir: str | Path, sparsity: float, out: str | Path, scope: str = "global", finetune_epochs: int = 1,
              backend: str | None = None, force: bool = False, progress: bool = True, batch: int = 64,
              repeats: int = 50, threads: int = 1) -> dict:
    """Prune ``run_dir``'s weights to ``sparsity``, fine-tune ``finetune_epochs`` on ``backend``
    (default: the run's) with the masks kept, write the run folder ``out``; returns the report."""
    import copy
    import tempfile

    from ..cli._common import default_backend, load_run, quiet_frameworks
    from ..fileio import write_json
    from ..interop.onnx import export_onnx
    from ..spec.model import from_dict
    from ..train import run as R
    from . import measure as M

    if finetune_epochs < 0:
        raise SpecError(f"--finetune-epochs: must be >= 0 (received {finetune_epochs})")
    run_dir, out = Path(run_dir), Path(out)
    _check_out(out, run_dir)
    spec, params, man = load_run(run_dir)
    backend = backend or default_backend(man)
    if backend not in ("torch", "keras"):
        raise SpecError(f"--backend: must be torch or keras (received {backend!r})")
    masks = magnitude_masks(spec, params, sparsity, scope)  # refuses a bad sparsity before anything is written
    R.prepare_fresh(out, force=force)
    ds = M.run_data(spec, man, run_dir)
    names = list(masks)
    pruned = apply_masks(params, masks)
    raw = copy.deepcopy({k: v for k, v in spec.raw.items() if k != "search"})
    target = (n_pruned(sum(m.size for m in masks.values()), sparsity) if scope == "global"
              else sum(n_pruned(m.size, sparsity) for m in masks.values()))
    info = {"from_run": str(run_dir.resolve()), "method": "magnitude, unstructured", "scope": scope,
            "sparsity_target": sparsity, "target_zeros": target, "finetune_epochs": finetune_epochs,
            "backend": backend, "masks_reapplied": "after every optimizer step" if finetune_epochs else "no fine-tuning"}
    if finetune_epochs > 0:
        quiet_frameworks()
        from ..train import fit, loop

        raw["train"]["epochs"] = finetune_epochs
        ft = from_dict(raw)
        engine = MaskedEngine(loop._local_engine(ft, backend, loop._as_data(ds), pruned), masks)
        try:
            res = fit(ft, backend=backend, data=ds, out=out, progress=progress, engine=engine)
        finally:
            engine.close()
        final = res.params
    else:
        ft = from_dict(raw)
        pre = ds.preprocess.to_dict() if getattr(ds, "preprocess", None) is not None else man.get("preprocess")
        m = {**R.manifest(ft, backend, ds.data_hash), "kind": "prune", "status": "finished"}
        if pre is not None:
            m["preprocess"] = pre
        R.write_run_files(out, spec=ft, params=pruned, man=m, metrics={"history": [], "status": "finished"})
        final = pruned
    got = sparsity_of(final, names)
    info.update(zeros=got["zeros"], prunable=got["size"], sparsity=got["sparsity"],
                tensors={k: {"zeros": z, "size": n} for k, (z, n) in got["tensors"].items()})
    with tempfile.TemporaryDirectory(prefix="xnn-prune-") as tmp:
        fa, fb = Path(tmp) / "before.onnx", Path(tmp) / "after.onnx"
        export_onnx(spec, params, fa)
        export_onnx(ft, final, fb)
        rep = M.compare(spec, fa, fb, *ds.test, labels=("before", f"pruned {got['sparsity'] * 100:.1f} %"),
                        batch=batch, repeats=repeats, threads=threads,
                        sizes={"gzip_bytes": [M.gzip_size(fa), M.gzip_size(fb)]})
    rep.update({"kind": "prune", "run": str(run_dir), "out": str(out), "pruning": info,
                "notes": [("dense ONNX storage: zeros take the same space (the gzip size shows what sparse storage "
                          "could save); unstructured sparsity does not speed up ONNX Runtime's dense kernels")]})
    man2 = R.read_manifest(out)
    man2["pruning"] = {k: v for k, v in info.items() if k != "tensors"}
    R.write_run_files(out, man=man2)
    write_json(out / "pruning.json", rep)
    return rep
