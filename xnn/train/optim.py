"""xnn's optimizers (PyTorch's formulas) in NumPy, parameter groups, and gradient clipping.

One step, for every trainable parameter θ with gradient g (docs/semantics.md, "Optimizers"):

1. clipping (``train.clip_grad_norm = c``): total = ‖(‖g_i‖)_i‖₂ over all trainable params,
   g ← g · min(1, c / (total + 1e-6));
2. weight decay λ, only for params whose group is not in ``train.weight_decay_exclude``:
   coupled (SGD, Adam, RMSprop, Adagrad) g ← g + λθ; decoupled (AdamW) θ ← θ(1 − lr·λ);
3. the update (t = number of this step, from 1):

   - SGD: b ← g (t = 1) else μb + (1 − τ)g; g ← g + μb if nesterov else b (when μ > 0); θ ← θ − lr·g
   - Adam/AdamW: m ← β1·m + (1 − β1)g; v ← β2·v + (1 − β2)g²;
     θ ← θ − lr/(1 − β1ᵗ) · m / (√v / √(1 − β2ᵗ) + ε)
   - RMSprop: v ← αv + (1 − α)g²; centered: ḡ ← αḡ + (1 − α)g, a = √(v − ḡ²) + ε, else a = √v + ε;
     μ > 0: b ← μb + g/a, θ ← θ − lr·b; else θ ← θ − lr·g/a
   - Adagrad: s ← s + g²; θ ← θ − lr·g/(√s + ε); s starts at ``initial_accumulator_value``

Buffers (group ``buffer``) are never trained; frozen nodes (``train.frozen`` or a layer's
``trainable: false``) are not updated. Optimizer state is kept in canonical layout under
``<node>.<param>.<slot>`` plus ``step`` so a checkpoint resumes on either backend.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLIP_EPS = 1e-6  # PyTorch's clip_grad_norm_ epsilon


@dataclass(frozen=True)
class ParamInfo:
    """How one canonical parameter is trained."""

    group: str  # weight | bias | norm | embedding | buffer
    trainable: bool  # not a buffer and its node is not frozen
    decay: bool  # weight decay applies (trainable and group not excluded)


def frozen_nodes(spec) -> set[str]:
    """Node names that are not updated: ``train.frozen`` plus layers with ``trainable: false``.

    Freezing a composite (e.g. a TransformerEncoderBlock) freezes every node it expanded into.
    """
    named = set(spec.train.frozen)
    return named | {n.name for n in spec.nodes if not n.layer.trainable or n.origin in named}


def param_info(spec) -> dict[str, ParamInfo]:
    """``<node>.<param>`` -> ParamInfo, in node order."""
    frozen = frozen_nodes(spec)
    excl = set(spec.train.weight_decay_exclude)
    out = {}
    for n in spec.nodes:
        for k, p in n.params.items():
            tr = p.group != "buffer" and n.name not in frozen
            out[f"{n.name}.{k}"] = ParamInfo(p.group, tr, tr and p.group not in excl)
    return out


def slot_names(opt) -> tuple[str, ...]:
    """State slots per parameter of an optimizer spec (canonical names)."""
    t = opt.type
    if t == "sgd":
        return ("momentum",) if opt.momentum > 0 else ()
    if t in ("adam", "adamw"):
        return ("m", "v")
    if t == "rmsprop":
        return ("v",) + (("g",) if opt.centered else ()) + (("momentum",) if opt.momentum > 0 else ())
    if t == "adagrad":
        return ("sum",)
    raise ValueError(f"unknown optimizer {t!r}")


def clip_coef(grads: list[np.ndarray], max_norm: float) -> float:
    """PyTorch's global-norm clipping factor: min(1, max_norm / (total + 1e-6))."""
    total = float(np.sqrt(sum(float(np.sum(np.asarray(g, np.float64) ** 2)) for g in grads)))
    return min(1.0, max_norm / (total + CLIP_EPS))


class ReferenceOptimizer:
    """NumPy float64 reference of xnn's optimizer for one spec (tests compare backends to it).

    ``step(params, grads, lr)`` takes canonical dicts (grads for trainable params) and returns
    the new params; ``state`` holds ``<param>.<slot>`` arrays and ``step_count``.
    """

    def __init__(self, spec):
        check_optimizer(spec.train.optimizer)
        self.train = spec.train
        self.opt = spec.train.optimizer
        self.info = param_info(spec)
        self.state: dict[str, np.ndarray] = {}
        self.step_count = 0

    def _slot(self, name: str, slot: str, like: np.ndarray, init: float = 0.0) -> np.ndarray:
        key = f"{name}.{slot}"
        if key not in self.state:
            self.state[key] = np.full(like.shape, init, np.float64)
        return self.state[key]

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray], lr: float) -> dict[str, np.ndarray]:
        o, t = self.opt, self.step_count + 1
        names = [k for k, i in self.info.items() if i.trainable]
        g_all = {k: np.asarray(grads[k], np.float64) for k in names}
        if self.train.clip_grad_norm is not None:
            c = clip_coef(list(g_all.values()), self.train.clip_grad_norm)
            g_all = {k: g * c for k, g in g_all.items()}
        out = {k: np.array(v, np.float64) for k, v in params.items()}
        for k in names:
            th, g = out[k], g_all[k]
            wd = o.weight_decay if self.info[k].decay else 0.0
            if o.type == "adamw":
                th = th * (1 - lr * wd)
            elif wd:
                g = g + wd * th
            if o.type == "sgd":
                if o.momentum > 0:
                    b = g.copy() if t == 1 else o.momentum * self._slot(k, "momentum", g) + (1 - o.dampening) * g
                    self.state[f"{k}.momentum"] = b
                    g = g + o.momentum * b if o.nesterov else b
                th = th - lr * g
            elif o.type in ("adam", "adamw"):
                b1, b2 = o.betas
                m = b1 * self._slot(k, "m", g) + (1 - b1) * g
                v = b2 * self._slot(k, "v", g) + (1 - b2) * g * g
                self.state[f"{k}.m"], self.state[f"{k}.v"] = m, v
                denom = np.sqrt(v) / np.sqrt(1 - b2 ** t) + o.eps
                th = th - (lr / (1 - b1 ** t)) * m / denom
            elif o.type == "rmsprop":
                v = o.alpha * self._slot(k, "v", g) + (1 - o.alpha) * g * g
                self.state[f"{k}.v"] = v
                if o.centered:
                    gb = o.alpha * self._slot(k, "g", g) + (1 - o.alpha) * g
                    self.state[f"{k}.g"] = gb
                    a = np.sqrt(v - gb * gb) + o.eps
                else:
                    a = np.sqrt(v) + o.eps
                if o.momentum > 0:
                    b = o.momentum * self._slot(k, "momentum", g) + g / a
                    self.state[f"{k}.momentum"] = b
                    th = th - lr * b
                else:
                    th = th - lr * g / a
            elif o.type == "adagrad":
                s = self._slot(k, "sum", g, o.initial_accumulator_value) + g * g
                self.state[f"{k}.sum"] = s
                th = th - lr * g / (np.sqrt(s) + o.eps)
            else:
                raise ValueError(f"unknown optimizer {o.type!r}")
            out[k] = th
        self.step_count = t
        return out


def check_optimizer(opt) -> None:
    """Reject optimizer settings PyTorch's formula does not define (raises SpecError)."""
    from ..errors import SpecError

    if opt.type == "sgd" and opt.nesterov and (opt.momentum <= 0 or opt.dampening != 0):
        raise SpecError(f"train.optimizer.nesterov: needs momentum > 0 and dampening 0 "
                        f"(received momentum {opt.momentum}, dampening {opt.dampening})")


def native_groups(node, native: dict[str, np.ndarray], from_native) -> dict[str, list[str]]:
    """Which canonical params each native tensor of ``node`` feeds (found by probing
    ``from_native`` with one tensor set to ones), so groups and optimizer slots can be mapped
    through any layout conversion. ``native`` is name -> array (torch) or index -> array (Keras).
    """
    out = {}
    for key in native:
        probe = {k: np.zeros(np.shape(v)) for k, v in native.items()}
        probe[key] = np.ones(np.shape(native[key]))
        arg = probe if not isinstance(key, int) else [probe[i] for i in range(len(probe))]
        canon = from_native(node, arg)
        out[key] = [k for k, v in canon.items() if np.any(np.asarray(v) != 0)]
    return out
