"""xnn's optimizers (PyTorch's formulas) as ``keras.optimizers.Optimizer`` subclasses.

Keras's own optimizers differ from xnn's: Adam's ε sits inside the bias correction, RMSprop's
ε inside the square root, SGD's velocity carries old learning rates under a schedule, and every
``weight_decay`` is decoupled. These classes implement docs/semantics.md exactly:

- the learning rate is a float64 variable ``xnn_lr`` set by the trainer before each step
  (Keras's own float32 ``learning_rate`` variable would round it);
- weight decay is per variable (``decay_flags``, aligned with the variables the optimizer is
  built on): coupled L2 for SGD/Adam/RMSprop/Adagrad, decoupled for AdamW;
- clipping is done by the trainer before ``apply`` (xnn's global-norm formula).

Outside a distribution strategy ``apply`` takes a direct path: the per-step scalars (the
learning rate in the variables' dtype, the step number, Adam's bias corrections) are computed
once per step instead of once per variable, and the variables are updated without Keras's
merge-call machinery. Same formulas on the same values; under ``tf.distribute`` (Mirrored,
parameter servers) Keras's own ``apply`` runs. (The two paths agree exactly for SGD, RMSprop and
Adagrad; for Adam they may differ in the last float32 bits, because Grappler rewrites
``x / sqrt(c)`` into ``x * rsqrt(c)`` only where the ``sqrt`` has a single consumer.)
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from ...train.optim import slot_names


class XnnOptimizer(keras.optimizers.Optimizer):
    """Base: one update formula per subclass in ``_update(i, g, var, scalars, wd)``."""

    def __init__(self, opt_spec, decay_flags: list[bool], name: str | None = None):
        super().__init__(learning_rate=0.0, name=name or f"xnn_{opt_spec.type}")
        self._kind = opt_spec.type
        self._slots_names = slot_names(opt_spec)
        self._decay_flags = list(decay_flags)
        self._wd = float(opt_spec.weight_decay)
        self._init_acc = float(getattr(opt_spec, "initial_accumulator_value", 0.0))

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self.xnn_lr = self.add_variable(shape=(), initializer="zeros", dtype="float64", name="xnn_lr")
        self.xnn_slots = {}
        for s in self._slots_names:
            self.xnn_slots[s] = [self.add_variable_from_reference(v, name=f"xnn_{s}") for v in var_list]
            if self._slot_init(s):  # exact in float64 (a Keras Constant initializer rounds via float32)
                for sv in self.xnn_slots[s]:
                    sv.assign(np.full(tuple(sv.shape), self._slot_init(s), dtype=sv.dtype))

    def _slot_init(self, slot: str) -> float:
        return 0.0

    def update_step(self, gradient, variable, learning_rate):
        i = self._get_variable_index(variable)
        self._update(i, ops.cast(gradient, variable.dtype), variable, self._scalars(variable.dtype), self._wd_of(i))

    def apply(self, grads, trainable_variables=None):
        """Keras's ``apply`` under a distribution strategy; otherwise the direct path (module
        docstring). Gradients must be dense tensors, one per variable the optimizer was built on
        (the trainer passes zeros for missing ones)."""
        if tf.distribute.has_strategy() or trainable_variables is None or not self.built:
            return super().apply(grads, trainable_variables)
        variables = list(trainable_variables)
        if not variables:
            return None
        with tf.name_scope(self.name):
            scalars = {}
            for g, var in zip(grads, variables):
                i = self._get_variable_index(var)
                dt = var.dtype
                if dt not in scalars:
                    scalars[dt] = self._scalars(dt)
                self._update(i, ops.cast(g, dt), var, scalars[dt], self._wd_of(i))
            self.iterations.assign_add(1)
        return None

    def _wd_of(self, i: int) -> float:
        return self._wd if self._decay_flags[i] else 0.0

    def _scalars(self, dt) -> dict:
        """This step's scalars in dtype ``dt``: ``lr`` and ``t`` (the step number, from 1)."""
        return {"lr": ops.cast(self.xnn_lr, dt), "t": ops.cast(self.iterations + 1, dt)}

    def _slot(self, name: str, i: int):
        return self.xnn_slots[name][i]

    def _update(self, i, g, var, s, wd):
        raise NotImplementedError


class SGD(XnnOptimizer):
    def __init__(self, o, decay_flags, name=None):
        super().__init__(o, decay_flags, name)
        self._mu, self._tau, self._nesterov = float(o.momentum), float(o.dampening), bool(o.nesterov)

    def _update(self, i, g, var, s, wd):
        lr, t = s["lr"], s["t"]
        if wd:
            g = g + wd * var
        if self._mu > 0:
            b = self._slot("momentum", i)
            # PyTorch: the first step sets the buffer to g (no dampening); lr is applied outside
            nb = ops.where(ops.equal(t, 1.0), g, self._mu * b + (1.0 - self._tau) * g)
            self.assign(b, nb)
            g = g + self._mu * nb if self._nesterov else nb
        self.assign_sub(var, lr * g)


class Adam(XnnOptimizer):
    """Adam (coupled L2) and AdamW (decoupled, θ ← θ(1 − lr·λ) first); ε outside the sqrt."""

    def __init__(self, o, decay_flags, name=None):
        super().__init__(o, decay_flags, name)
        self._b1, self._b2, self._eps = float(o.betas[0]), float(o.betas[1]), float(o.eps)
        self._decoupled = o.type == "adamw"

    def _scalars(self, dt) -> dict:
        s = super()._scalars(dt)
        bc1 = 1.0 - ops.power(ops.convert_to_tensor(self._b1, dtype=dt), s["t"])
        bc2 = 1.0 - ops.power(ops.convert_to_tensor(self._b2, dtype=dt), s["t"])
        s["lr_bc1"], s["sqrt_bc2"] = s["lr"] / bc1, ops.sqrt(bc2)
        return s

    def _update(self, i, g, var, s, wd):
        lr = s["lr"]
        if wd and self._decoupled:
            self.assign(var, var * (1.0 - lr * wd))
        elif wd:
            g = g + wd * var
        m, v = self._slot("m", i), self._slot("v", i)
        nm = self._b1 * m + (1.0 - self._b1) * g
        nv = self._b2 * v + (1.0 - self._b2) * g * g
        self.assign(m, nm)
        self.assign(v, nv)
        denom = ops.sqrt(nv) / s["sqrt_bc2"] + self._eps
        self.assign_sub(var, s["lr_bc1"] * nm / denom)


class RMSprop(XnnOptimizer):
    def __init__(self, o, decay_flags, name=None):
        super().__init__(o, decay_flags, name)
        self._alpha, self._eps, self._mu, self._centered = float(o.alpha), float(o.eps), float(o.momentum), bool(o.centered)

    def _update(self, i, g, var, s, wd):
        lr = s["lr"]
        if wd:
            g = g + wd * var
        v = self._slot("v", i)
        nv = self._alpha * v + (1.0 - self._alpha) * g * g
        self.assign(v, nv)
        if self._centered:
            gb = self._slot("g", i)
            ng = self._alpha * gb + (1.0 - self._alpha) * g
            self.assign(gb, ng)
            a = ops.sqrt(nv - ng * ng) + self._eps
        else:
            a = ops.sqrt(nv) + self._eps
        if self._mu > 0:
            b = self._slot("momentum", i)
            nb = self._mu * b + g / a
            self.assign(b, nb)
            self.assign_sub(var, lr * nb)
        else:
            self.assign_sub(var, lr * g / a)


class Adagrad(XnnOptimizer):
    def __init__(self, o, decay_flags, name=None):
        super().__init__(o, decay_flags, name)
        self._eps = float(o.eps)

    def _slot_init(self, slot):
        return self._init_acc

    def _update(self, i, g, var, s, wd):
        if wd:
            g = g + wd * var
        acc = self._slot("sum", i)
        ns = acc + g * g
        self.assign(acc, ns)
        self.assign_sub(var, s["lr"] * g / (ops.sqrt(ns) + self._eps))


def make_optimizer(opt_spec, decay_flags: list[bool]) -> XnnOptimizer:
    """The Keras optimizer implementing ``train.optimizer``."""
    cls = {"sgd": SGD, "adam": Adam, "adamw": Adam, "rmsprop": RMSprop, "adagrad": Adagrad}[opt_spec.type]
    return cls(opt_spec, decay_flags)
