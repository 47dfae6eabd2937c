"""xnn's training step on PyTorch: real ``torch.optim`` optimizers (their formulas are xnn's),
param groups for weight-decay exclusions, the scheduled lr set before every step.

The epoch loop, checkpoints and metrics live in :mod:`xnn.train.loop`; this module provides
one optimizer step, evaluation, and optimizer/RNG state as canonical NumPy dicts.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from ...train.optim import check_optimizer, frozen_nodes, native_groups, param_info, slot_names
from ...train.schedules import lr_at
from ...train.trainer import TrainerBase
from .build import DTYPES, predict
from .lowering import lowerings

# canonical slot -> torch optimizer state key, per optimizer type
_TORCH_SLOT = {
    "sgd": {"momentum": "momentum_buffer"},
    "adam": {"m": "exp_avg", "v": "exp_avg_sq"},
    "adamw": {"m": "exp_avg", "v": "exp_avg_sq"},
    "rmsprop": {"v": "square_avg", "g": "grad_avg", "momentum": "momentum_buffer"},
    "adagrad": {"sum": "sum"},
}


def configure(train) -> None:
    """Seed, threads, determinism and TF32 for a ``TrainSpec`` (process-wide settings)."""
    torch.manual_seed(train.seed)
    if train.threads:
        torch.set_num_threads(train.threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.backends.cuda.matmul.allow_tf32 = bool(train.tf32)  # TF32 off unless asked for
    torch.backends.cudnn.allow_tf32 = bool(train.tf32)


def torch_loss(loss_spec, out: torch.Tensor, y: torch.Tensor, class_weights: torch.Tensor | None) -> torch.Tensor:
    """xnn's loss (xnn.train.losses) on torch tensors; ``out (N, ..., K)`` channels-last."""
    t = loss_spec.type
    if t == "cross_entropy" and out.dim() == 2 and y.dim() == 1 and not y.is_floating_point():
        return F.cross_entropy(out, y, weight=class_weights, label_smoothing=loss_spec.label_smoothing)
    if t == "cross_entropy":
        k = out.shape[-1]
        z = out.reshape(-1, k)
        if not y.is_floating_point():
            # PyTorch's weighted mean Σ w_y l / Σ w_y is xnn's definition for integer labels.
            return F.cross_entropy(z, y.reshape(-1), weight=class_weights, label_smoothing=loss_spec.label_smoothing)
        # one-hot/soft targets: PyTorch divides by N even with weights; xnn divides by Σ w·y
        tt = y.reshape(-1, k).to(z.dtype)
        eps = loss_spec.label_smoothing
        ts = tt * (1 - eps) + eps / k
        w = class_weights if class_weights is not None else torch.ones(k, dtype=z.dtype, device=z.device)
        return -(ts * w * F.log_softmax(z, dim=-1)).sum() / (tt * w).sum()
    yy = y.reshape(out.shape).to(out.dtype)
    if t == "binary_cross_entropy":
        return F.binary_cross_entropy_with_logits(out, yy)
    if t == "mse":
        return F.mse_loss(out, yy)
    if t == "mae":
        return F.l1_loss(out, yy)
    if t == "huber":
        return F.huber_loss(out, yy, delta=loss_spec.delta)
    raise ValueError(f"unknown loss {t!r}")


def graph_def(model, spec) -> bytes:
    """The compiled module's graph as a serialized TensorBoard ``GraphDef`` (traced with torch.jit
    on a batch of two zero inputs by ``torch.utils.tensorboard``, whose import loads TensorFlow
    when it is installed: ``train.tensorboard.graph`` is off by default)."""
    import warnings

    from torch.utils.tensorboard._pytorch_graph import graph

    x = torch.zeros((2, *spec.input_shape), dtype=_input_dtype(spec, model), device=model.xnn_device)
    was = model.training
    model.eval()
    try:
        with warnings.catch_warnings():  # torch.jit.trace is deprecated; it is what this tracer uses
            warnings.simplefilter("ignore", DeprecationWarning)
            g, _ = graph(model, (x,))
    finally:
        model.train(was)
    return g.SerializeToString()


def _input_dtype(spec, model):
    return torch.int64 if spec.input.dtype in ("int64", "int32") else model.xnn_dtype


class Trainer(TrainerBase):
    """One xnn optimizer step at a time on a compiled ``XnnModule``.

    ``train_step(x, y)``: x ``(N, *input.shape)`` channels-last, y labels ``(N, ...)`` or targets
    shaped like the output; returns the batch loss. ``step`` counts optimizer steps taken.
    """

    def __init__(self, spec, model, dtype: str = "float32", steps_per_epoch: int = 1,
                 class_weights: np.ndarray | None = None):
        check_optimizer(spec.train.optimizer)
        self.spec, self.model, self.dtype = spec, model, dtype
        self.train = spec.train
        self.steps_per_epoch = int(steps_per_epoch)
        self.step = 0
        self._set_lr: float | None = None  # the lr the optimizer's groups hold now
        sched = spec.train.schedule
        self._const_lr = float(spec.train.optimizer.lr) if sched.type == "constant" and sched.warmup_steps == 0 else None
        self.device = model.xnn_device
        tdt = DTYPES[dtype]
        self.class_weights = None if class_weights is None else np.asarray(class_weights, np.float64)
        self._cw = None if class_weights is None else torch.as_tensor(self.class_weights, dtype=tdt, device=self.device)
        info = param_info(spec)
        low = self._low = lowerings()
        self._frozen_mods = [model.layers[n] for n in frozen_nodes(spec) if n in model.layers]
        # canonical param -> (node, native name, torch Parameter); trainable ones only
        self._params: dict[str, tuple] = {}
        decay, no_decay = [], []
        for node in spec.nodes:
            if not node.params:
                continue
            mod = model.layers[node.name]
            sd = {k: v.detach().cpu().numpy() for k, v in mod.state_dict().items()}
            groups = native_groups(node, sd, low[node.kind].from_native)
            for pname, prm in mod.named_parameters():
                canon = groups.get(pname, [])
                trainable = bool(canon) and all(info[f"{node.name}.{c}"].trainable for c in canon)
                prm.requires_grad_(trainable)
                if not trainable:
                    continue
                flags = {info[f"{node.name}.{c}"].decay for c in canon}
                if len(flags) > 1:
                    raise NotImplementedError(f"{node.name}.{pname}: one tensor mixes decayed and excluded params")
                (decay if flags.pop() else no_decay).append(prm)
                for c in canon:
                    self._params[f"{node.name}.{c}"] = (node, pname, prm)
        self._trainable = decay + no_decay
        o = self.train.optimizer
        if o.weight_decay == 0.0:  # one group: the optimizer's per-group overhead shows on small models
            groups = [{"params": decay + no_decay, "weight_decay": 0.0}] if decay + no_decay else []
        else:
            groups = [g for g in ({"params": decay, "weight_decay": o.weight_decay},
                                  {"params": no_decay, "weight_decay": 0.0}) if g["params"]]
        # train.compile: the forward and xnn's loss through torch.compile (its backward is compiled
        # with it by AOTAutograd); the optimizer step stays eager. Made on the first step.
        self._compile = bool(getattr(self.train, "compile", False))
        self._fwd_loss = None
        # gradients kept for logging (xnn.train.tensorboard): only on steps that asked for them
        self.keep_grads = False
        self._grads: dict[int, np.ndarray] | None = None
        lr = lr_at(self.train, 0, self.steps_per_epoch)
        if not groups:  # everything frozen: steps are no-ops but counted
            self.optimizer = None
        elif o.type == "sgd":
            self.optimizer = torch.optim.SGD(groups, lr=lr, momentum=o.momentum, dampening=o.dampening, nesterov=o.nesterov)
        elif o.type == "adam":
            self.optimizer = torch.optim.Adam(groups, lr=lr, betas=tuple(o.betas), eps=o.eps)
        elif o.type == "adamw":
            self.optimizer = torch.optim.AdamW(groups, lr=lr, betas=tuple(o.betas), eps=o.eps)
        elif o.type == "rmsprop":
            self.optimizer = torch.optim.RMSprop(groups, lr=lr, alpha=o.alpha, eps=o.eps, momentum=o.momentum, centered=o.centered)
        elif o.type == "adagrad":
            self.optimizer = torch.optim.Adagrad(groups, lr=lr, eps=o.eps, initial_accumulator_value=o.initial_accumulator_value)
        else:
            raise ValueError(f"unknown optimizer {o.type!r}")

    # ------------------------------------------------------------------ steps
    def _tensors(self, x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        tdt = DTYPES[self.dtype]
        return self._tensor(x, tdt), self._tensor(y, tdt, labels=True)

    def _tensor(self, a, tdt, labels: bool = False) -> torch.Tensor:
        # from_numpy shares memory (no copy) where the array already has the right dtype
        a = np.asarray(a)
        t = torch.from_numpy(a) if a.flags.c_contiguous and a.dtype != object else torch.as_tensor(a)
        if t.is_floating_point():
            t = t if t.dtype == tdt else t.to(tdt)
        elif labels and t.dtype != torch.int64:
            t = t.long()
        return t if self.device.type == "cpu" else t.to(self.device, non_blocking=True)

    def lr(self) -> float:
        """The learning rate of the next step."""
        if self._const_lr is not None:
            return self._const_lr
        return lr_at(self.train, self.step, self.steps_per_epoch)

    # the pieces every engine's step is made of (DDP, pipeline stages, the parameter server)
    @property
    def trainable(self) -> list[torch.Tensor]:
        """The tensors the optimizer updates, in a fixed order."""
        return self._trainable

    def tensors(self, x: np.ndarray, y: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch as tensors of the training dtype on the model's device (labels as int64)."""
        return self._tensors(x, y)

    def loss(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """xnn's loss (with the class weights) of outputs ``out`` for targets ``y``."""
        return torch_loss(self.train.loss, out, y, self._cw)

    def train_mode(self) -> None:
        """Training mode, frozen nodes in inference mode (their BatchNorm keeps its statistics)."""
        if not self.model.training or any(m.training for m in self._frozen_mods):
            self.model.train()
            for m in self._frozen_mods:
                m.eval()

    def zero_grad(self) -> None:
        if self.optimizer is not None:
            self.optimizer.zero_grad(set_to_none=True)

    def apply_step(self, clip=None) -> None:
        """The optimizer step on the gradients now held: clipping by the global norm (``clip(max_norm)``
        replaces it, e.g. across pipeline stages), the scheduled lr, the update, the step count."""
        lr = self.lr()
        if self.optimizer is not None:
            if self.train.clip_grad_norm is not None:  # before weight decay (inside step)
                if clip is None:
                    torch.nn.utils.clip_grad_norm_(self._trainable, self.train.clip_grad_norm)
                else:
                    clip(self.train.clip_grad_norm)
            if lr != self._set_lr:
                for g in self.optimizer.param_groups:
                    g["lr"] = lr
                self._set_lr = lr
            self.optimizer.step()
        self.step += 1

    def _forward_loss(self, xt: torch.Tensor, yt: torch.Tensor):
        out = self.model(xt)
        return out, self.loss(out, yt)

    def _compiled_forward_loss(self, xt: torch.Tensor, yt: torch.Tensor):
        """``_forward_loss`` through torch.compile; where it cannot compile here (no C++ compiler,
        an unsupported platform or op) one warning and the eager step from then on. A failed
        compile runs nothing, so no state has changed."""
        if self._fwd_loss is None:
            self._fwd_loss = torch.compile(self._forward_loss, dynamic=None)
            try:
                return self._fwd_loss(xt, yt)
            except Exception as e:  # noqa: BLE001 - any compiler failure means "not supported here"
                import warnings

                warnings.warn(f"train.compile: torch.compile is not available for this model here, training eagerly "
                              f"({type(e).__name__}: {str(e).strip().splitlines()[0][:200] if str(e).strip() else ''})",
                              RuntimeWarning, stacklevel=3)
                self._compile, self._fwd_loss = False, None
                if self.optimizer is not None:
                    self.zero_grad()
                return self._forward_loss(xt, yt)
        return self._fwd_loss(xt, yt)

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One optimizer step on batch ``(x, y)`` in training mode; returns the batch loss."""
        self.train_mode()
        xt, yt = self._tensors(x, y)
        self.zero_grad()
        out, loss = self._compiled_forward_loss(xt, yt) if self._compile else self._forward_loss(xt, yt)
        if self.optimizer is not None:
            loss.backward()
            if self.keep_grads:  # before clipping (in place) and the update
                self._grads = {id(p): (np.zeros(tuple(p.shape)) if p.grad is None else
                                       p.grad.detach().cpu().numpy().astype(np.float64))
                               for p in self._trainable}
        self.keep_grads = False
        self.apply_step()
        self._keep_output(out)  # detached and copied lazily by last_output
        return loss.item()

    def last_gradients(self) -> dict[str, np.ndarray] | None:
        """The gradients of the latest step that had ``keep_grads`` set, before clipping, as
        ``<node>.<param>`` -> float64 arrays in the canonical layout (trainable params only); None
        when that step kept none. Read once: the next call returns None."""
        grads, self._grads = self._grads, None
        if grads is None:
            return None
        low = self._low
        nodes: dict[str, tuple] = {}  # node -> (node, native name -> id of its tensor)
        for node, pname, prm in self._params.values():
            nodes.setdefault(node.name, (node, {}))[1][pname] = id(prm)
        conv = {}
        for name, (node, natives) in nodes.items():
            sd = {k: np.zeros(tuple(v.shape)) for k, v in self.model.layers[name].state_dict().items()}
            sd.update({pname: grads[pid] for pname, pid in natives.items()})
            conv[name] = low[node.kind].from_native(node, sd)  # one layout conversion per node
        return {canon: np.asarray(conv[node.name][canon.split(".", 1)[1]], np.float64)
                for canon, (node, _, _) in self._params.items()}

    def last_grad_norms(self) -> dict[str, float] | None:
        """L2 norm of each canonical gradient of :meth:`last_gradients` (same one-shot rule)."""
        g = self.last_gradients()
        return None if g is None else {k: float(np.sqrt(np.sum(v * v))) for k, v in g.items()}

    def _to_numpy(self, t) -> np.ndarray:
        return t.detach().cpu().numpy()

    def _predict(self, x: np.ndarray, batch_size: int) -> np.ndarray:
        return predict(self.model, x, batch_size=batch_size)

    # ------------------------------------------------------------------ state
    def optimizer_state(self) -> dict[str, np.ndarray]:
        """``step`` and ``<node>.<param>.<slot>`` (canonical layout, float64)."""
        out = {"step": np.array([self.step], np.int64)}
        o = self.train.optimizer
        names = _TORCH_SLOT[o.type]
        for canon, (node, pname, prm) in self._params.items():
            st = self.optimizer.state.get(prm, {}) if self.optimizer is not None else {}
            for slot in slot_names(o):
                v = st.get(names[slot])
                arr = np.zeros(tuple(prm.shape)) if v is None else v.detach().cpu().numpy().astype(np.float64)
                out[f"{canon}.{slot}"] = self._to_canon(node, pname, arr)[canon.split(".", 1)[1]]
        return out

    def load_optimizer_state(self, state: dict[str, np.ndarray]) -> None:
        """Inverse of :meth:`optimizer_state` (the optimizer continues exactly)."""
        self._set_lr = None  # the groups' lr is set again on the next step
        self.step = int(np.asarray(state["step"]).reshape(-1)[0])
        if self.optimizer is None:
            return
        o = self.train.optimizer
        names = _TORCH_SLOT[o.type]
        # one native tensor may hold several canonical params (fused q/k/v): fill it from all of them
        owners: dict[int, tuple] = {}
        for canon, (node, pname, prm) in self._params.items():
            owners.setdefault(id(prm), (node, pname, prm, []))[3].append(canon.split(".", 1)[1])
        for node, pname, prm, cnames in owners.values():
            st = self.optimizer.state[prm]
            st.clear()
            if self.step == 0 and o.type != "adagrad":
                continue  # torch creates state lazily on the first step
            st["step"] = torch.tensor(float(self.step), dtype=torch.float32)
            for slot in slot_names(o):
                arr = self._to_native(node, pname, {c: state[f"{node.name}.{c}.{slot}"] for c in cnames})
                st[names[slot]] = torch.as_tensor(arr, dtype=prm.dtype, device=prm.device).reshape(prm.shape).clone()

    def rng_state(self) -> dict[str, np.ndarray]:
        """Torch's global CPU RNG (Dropout masks) as a uint8 array."""
        return {"rng.torch": torch.get_rng_state().numpy().copy()}

    def load_rng_state(self, state: dict[str, np.ndarray]) -> None:
        if "rng.torch" in state:
            torch.set_rng_state(torch.from_numpy(np.ascontiguousarray(state["rng.torch"], np.uint8)))

    # slot tensors go through the lowering's layout conversion like the params they belong to
    def _to_canon(self, node, pname: str, arr: np.ndarray) -> dict[str, np.ndarray]:
        mod = self.model.layers[node.name]
        sd = {k: np.zeros(tuple(v.shape)) for k, v in mod.state_dict().items()}
        sd[pname] = arr
        return lowerings()[node.kind].from_native(node, sd)

    def _to_native(self, node, pname: str, values: dict[str, np.ndarray]) -> np.ndarray:
        canon = {k: np.zeros(p.shape) for k, p in node.params.items()}
        canon.update({c: np.asarray(v, np.float64) for c, v in values.items()})
        return np.asarray(lowerings()[node.kind].to_native(node, canon)[pname])
