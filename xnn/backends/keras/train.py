"""xnn's training step on Keras 3 / TensorFlow: a compiled ``tf.function`` step (not
``model.fit``), xnn's loss written in TF, global clipping by xnn, and the optimizers of
:mod:`.optimizers` (PyTorch's formulas).

``replica_step(x, y, lr)`` is the per-replica step (forward, loss, gradients, clipping, update);
it is plain TF so a distributed driver can wrap it in ``strategy.run`` (that driver owns loss
scaling by the replica count and the gradient all-reduce). ``train_step`` is the single-device
outer call.

``train.compile: true`` compiles that step with XLA (``jit_compile=True``); when XLA refuses the
graph (an op without an XLA kernel) the trainer warns once and runs the step uncompiled (the
failed compile changes no variable).
"""
from __future__ import annotations

import os
import warnings

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from ...train.optim import CLIP_EPS, check_optimizer, frozen_nodes, native_groups, param_info, slot_names  # noqa: E402
from ...train.schedules import lr_at  # noqa: E402
from ...train.trainer import TrainerBase  # noqa: E402
from .build import predict  # noqa: E402
from .lowering import lowerings  # noqa: E402
from .optimizers import make_optimizer  # noqa: E402


def configure(train) -> None:
    """Seed, threads, determinism and TF32 for a ``TrainSpec`` (process-wide settings)."""
    import keras

    keras.utils.set_random_seed(train.seed)
    tf.config.experimental.enable_op_determinism()
    tf.config.experimental.enable_tensor_float_32_execution(bool(train.tf32))
    if train.threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(train.threads)
            tf.config.threading.set_inter_op_parallelism_threads(train.threads)
        except RuntimeError:  # TF already initialized its thread pools in this process
            pass


def tf_loss(loss_spec, out, y, class_weights=None):
    """xnn's loss (xnn.train.losses) in TF; ``out (N, ..., K)``; returns a scalar."""
    t = loss_spec.type
    if t == "cross_entropy":
        k = out.shape[-1]
        z = tf.reshape(out, [-1, k])
        if y.dtype.is_integer and not loss_spec.label_smoothing and class_weights is None:
            # the same mean of -log softmax[label] through TF's fused kernel (labels are checked
            # to lie in 0..k-1 when the data loads): one op where one_hot·log_softmax takes four
            return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(tf.reshape(y, [-1]), z))
        if y.dtype.is_integer:
            tt = tf.one_hot(tf.reshape(y, [-1]), k, dtype=z.dtype)
        else:
            tt = tf.reshape(tf.cast(y, z.dtype), [-1, k])
        eps = loss_spec.label_smoothing
        # tt·(1 − 0) + 0/k == tt and x·1 == x exactly: the identity factors are left out
        ts = tt * (1.0 - eps) + eps / k if eps else tt
        if class_weights is None:
            return -tf.reduce_sum(ts * tf.nn.log_softmax(z, axis=-1)) / tf.reduce_sum(tt)
        w = tf.constant(class_weights, z.dtype)
        return -tf.reduce_sum(ts * w * tf.nn.log_softmax(z, axis=-1)) / tf.reduce_sum(tt * w)
    yy = tf.reshape(tf.cast(y, out.dtype), tf.shape(out))
    d = out - yy
    if t == "binary_cross_entropy":
        return tf.reduce_mean(tf.nn.relu(out) - out * yy + tf.math.log1p(tf.exp(-tf.abs(out))))
    if t == "mse":
        return tf.reduce_mean(d * d)
    if t == "mae":
        return tf.reduce_mean(tf.abs(d))
    if t == "huber":
        a = tf.abs(d)
        delta = tf.constant(loss_spec.delta, out.dtype)
        return tf.reduce_mean(tf.where(a <= delta, 0.5 * d * d, delta * (a - 0.5 * delta)))
    raise ValueError(f"unknown loss {t!r}")


def clip_by_global_norm(grads: list, max_norm: float) -> list:
    """PyTorch's clip_grad_norm_: g · min(1, max_norm / (‖(‖g_i‖)‖ + 1e-6))."""
    total = tf.norm(tf.stack([tf.norm(g) for g in grads]))
    coef = tf.minimum(tf.constant(max_norm, total.dtype) / (total + CLIP_EPS), tf.constant(1.0, total.dtype))
    return [g * tf.cast(coef, g.dtype) for g in grads]


def graph_def(model, spec) -> bytes:
    """The model's inference graph (a ``tf.function`` traced for a batch of any size) as a
    serialized TensorBoard ``GraphDef``."""
    dt = {"int64": tf.int64, "int32": tf.int32}.get(spec.input.dtype) or model.inputs[0].dtype
    fn = tf.function(lambda x: model(x, training=False))
    g = fn.get_concrete_function(tf.TensorSpec([None, *spec.input_shape], dt)).graph
    return g.as_graph_def().SerializeToString()


class Trainer(TrainerBase):
    """One xnn optimizer step at a time on a compiled ``keras.Model`` (same API as torch's)."""

    def __init__(self, spec, model, dtype: str = "float32", steps_per_epoch: int = 1,
                 class_weights: np.ndarray | None = None):
        check_optimizer(spec.train.optimizer)
        self.spec, self.model, self.dtype = spec, model, dtype
        self.train = spec.train
        self.steps_per_epoch = int(steps_per_epoch)
        self.step = 0
        self.class_weights = None if class_weights is None else np.asarray(class_weights, np.float64)
        info = param_info(spec)
        low = self._low = lowerings()
        # Frozen nodes: their variables leave the trainable list and the layer runs in inference
        # mode (Keras's trainable=False semantics; torch puts the module in eval()).
        for n in frozen_nodes(spec):
            if spec.node_map[n].params:
                model.get_layer(n).trainable = False
        self._vars, decay_flags = [], []
        self._map: dict[str, tuple] = {}  # canonical trainable param -> (node, layer weight index, var index)
        for node in spec.nodes:
            if not node.params:
                continue
            layer = model.get_layer(node.name)
            ws = layer.get_weights()
            groups = native_groups(node, dict(enumerate(ws)), low[node.kind].from_native)
            trainable_ids = {id(v) for v in layer.trainable_weights}
            for j, var in enumerate(layer.weights):
                canon = groups.get(j, [])
                if id(var) not in trainable_ids or not canon or not all(info[f"{node.name}.{c}"].trainable for c in canon):
                    continue
                flags = {info[f"{node.name}.{c}"].decay for c in canon}
                if len(flags) > 1:
                    raise NotImplementedError(f"{node.name}: weight {j} mixes decayed and excluded params")
                for c in canon:
                    self._map[f"{node.name}.{c}"] = (node, j, len(self._vars))
                self._vars.append(var)
                decay_flags.append(flags.pop())
        self.optimizer = make_optimizer(self.train.optimizer, decay_flags)
        if self._vars:
            self.optimizer.build(self._vars)
        self.jit = bool(getattr(self.train, "compile", False))
        self._compiled = None  # traced on the first step (its signature needs the batch's dtypes)
        self._compiled_g = None  # the same step also returning the gradients (steps that log them)
        self._dtypes = None
        self._lr_cache: tuple[float, object] | None = None
        # gradients kept for logging (xnn.train.tensorboard): only on steps that asked for them
        self.keep_grads = False
        self._grads: list[np.ndarray] | None = None

    # ------------------------------------------------------------------ steps
    def replica_step(self, x, y, lr):
        """Forward in training mode, xnn's loss, gradients, global clipping, one update.

        Returns ``(loss, outputs)``. Plain TF: usable inside ``strategy.run``.
        """
        with tf.GradientTape() as tape:
            out = self.model(x, training=True)
            loss = tf_loss(self.train.loss, out, y, self.class_weights)
        if self._vars:
            self.apply_gradients(tape.gradient(loss, self._vars), lr)
        return loss, out

    def _replica_step_grads(self, x, y, lr):
        """:meth:`replica_step` that also returns the gradients before clipping (missing ones as
        zeros): ``(loss, outputs, grads)``; traced separately, used only on steps that log them."""
        with tf.GradientTape() as tape:
            out = self.model(x, training=True)
            loss = tf_loss(self.train.loss, out, y, self.class_weights)
        grads = [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
                 for g, v in zip(tape.gradient(loss, self._vars), self._vars)]
        self.apply_gradients(grads, lr)
        return loss, out, grads

    @property
    def trainable(self) -> list:
        """The variables the optimizer updates, in a fixed order."""
        return self._vars

    def tensors(self, x, y):
        return self._tensors(x, y)

    def apply_gradients(self, grads: list, lr, clip=None) -> None:
        """The optimizer step every engine shares (plain TF): missing gradients as zeros, clipping
        by the global norm before weight decay (``clip(grads, max_norm)`` replaces it, e.g. after
        an all-reduce), the scheduled ``lr``, the xnn optimizer's update."""
        if not self._vars:
            return
        grads = [tf.zeros_like(v) if g is None else tf.convert_to_tensor(g) for g, v in zip(grads, self._vars)]
        if self.train.clip_grad_norm is not None:
            grads = (clip or clip_by_global_norm)(grads, self.train.clip_grad_norm)
        self.optimizer.xnn_lr.assign(lr)
        self.optimizer.apply(grads, self._vars)

    def lr(self) -> float:
        """The learning rate of the next step."""
        return lr_at(self.train, self.step, self.steps_per_epoch)

    def _tensors(self, x, y):
        x = np.asarray(x)
        xt = tf.convert_to_tensor(x.astype(self.dtype, copy=False) if np.issubdtype(x.dtype, np.floating) else x)
        y = np.asarray(y)
        yt = tf.convert_to_tensor(y.astype(self.dtype, copy=False) if np.issubdtype(y.dtype, np.floating)
                                  else y.astype(np.int64, copy=False))
        return xt, yt

    def _lr_tensor(self):
        """This step's learning rate as a float64 tensor (reused while the value is unchanged)."""
        lr = float(self.lr())
        if self._lr_cache is None or self._lr_cache[0] != lr:
            self._lr_cache = (lr, tf.constant(lr, tf.float64))
        return self._lr_cache[1]

    def _make_step(self, xt, yt, jit: bool, grads: bool = False):
        """The traced step, with the batch dimension unknown in its signature: one trace serves
        every batch size (the last partial batch of an epoch does not trace again). Returned as
        its one concrete function: calling that skips the polymorphic function's per-call
        argument binding and trace lookup (about 0.3 ms a call on this CPU, a tenth of a
        digits-size step)."""
        sig = [tf.TensorSpec([None, *xt.shape[1:]], xt.dtype), tf.TensorSpec([None, *yt.shape[1:]], yt.dtype),
               tf.TensorSpec([], tf.float64)]
        fn = self._replica_step_grads if grads else self.replica_step
        return tf.function(fn, input_signature=sig, jit_compile=jit, reduce_retracing=True).get_concrete_function()

    def _step_fn(self, xt, yt, grads: bool):
        if grads:
            if self._compiled_g is None:
                self._compiled_g = self._make_step(xt, yt, self.jit, grads=True)
            return self._compiled_g
        if self._compiled is None:
            self._compiled = self._make_step(xt, yt, self.jit)
        return self._compiled

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        """One optimizer step on batch ``(x, y)`` in training mode; returns the batch loss."""
        xt, yt = self._tensors(x, y)
        lr = self._lr_tensor()
        keep = bool(self.keep_grads and self._vars)
        self.keep_grads = False
        if self._dtypes is None:
            self._dtypes = (xt.dtype, yt.dtype)
        if (xt.dtype, yt.dtype) != self._dtypes:  # e.g. int32 token ids after int64 ones
            xt, yt = tf.cast(xt, self._dtypes[0]), tf.cast(yt, self._dtypes[1])
        try:
            res = self._step_fn(xt, yt, keep)(xt, yt, lr)
        except (tf.errors.InvalidArgumentError, tf.errors.UnimplementedError, tf.errors.InternalError) as e:
            if not self.jit or "XLA" not in str(e) and "xla" not in str(e):
                raise
            warnings.warn(f"train.compile: XLA cannot compile this model's train step on this device, running it "
                          f"uncompiled ({str(e).strip().splitlines()[0][:200]})", RuntimeWarning, stacklevel=2)
            self.jit = False
            self._compiled = self._compiled_g = None
            res = self._step_fn(xt, yt, keep)(xt, yt, lr)
        if keep:
            loss, out, grads = res
            self._grads = [np.asarray(g.numpy(), np.float64) for g in grads]
        else:
            loss, out = res
        self.step += 1
        self._keep_output(out)
        return float(loss)

    def last_gradients(self) -> dict[str, np.ndarray] | None:
        """The gradients of the latest step that had ``keep_grads`` set, before clipping, as
        ``<node>.<param>`` -> float64 arrays in the canonical layout (trainable params only); None
        when that step kept none. Read once: the next call returns None."""
        grads, self._grads = self._grads, None
        if grads is None:
            return None
        low = self._low
        nodes: dict[str, tuple] = {}  # node -> (node, layer weight index -> var index)
        for node, j, vi in self._map.values():
            nodes.setdefault(node.name, (node, {}))[1][j] = vi
        conv = {}
        for name, (node, natives) in nodes.items():
            ws = [np.zeros(tuple(w.shape)) for w in self.model.get_layer(name).weights]
            for j, vi in natives.items():
                ws[j] = grads[vi]
            conv[name] = low[node.kind].from_native(node, ws)  # one layout conversion per node
        return {canon: np.asarray(conv[node.name][canon.split(".", 1)[1]], np.float64)
                for canon, (node, _, _) in self._map.items()}

    def last_grad_norms(self) -> dict[str, float] | None:
        """L2 norm of each canonical gradient of :meth:`last_gradients` (same one-shot rule)."""
        g = self.last_gradients()
        return None if g is None else {k: float(np.sqrt(np.sum(v * v))) for k, v in g.items()}

    def _to_numpy(self, t) -> np.ndarray:
        return t.numpy()

    def _predict(self, x: np.ndarray, batch_size: int) -> np.ndarray:
        return predict(self.model, x, batch_size=batch_size)

    # ------------------------------------------------------------------ state
    def optimizer_state(self) -> dict[str, np.ndarray]:
        """``step`` and ``<node>.<param>.<slot>`` (canonical layout, float64)."""
        out = {"step": np.array([self.step], np.int64)}
        low = lowerings()
        for canon, (node, j, vi) in self._map.items():
            layer = self.model.get_layer(node.name)
            for slot in slot_names(self.train.optimizer):
                ws = [np.zeros(w.shape) for w in layer.get_weights()]
                ws[j] = np.asarray(self.optimizer.xnn_slots[slot][vi].numpy(), np.float64)
                out[f"{canon}.{slot}"] = np.asarray(low[node.kind].from_native(node, ws)[canon.split(".", 1)[1]], np.float64)
        return out

    def load_optimizer_state(self, state: dict[str, np.ndarray]) -> None:
        """Inverse of :meth:`optimizer_state`."""
        self.step = int(np.asarray(state["step"]).reshape(-1)[0])
        if not self._vars:
            return
        self.optimizer.iterations.assign(self.step)
        low = lowerings()
        for canon, (node, j, vi) in self._map.items():
            cname = canon.split(".", 1)[1]
            for slot in slot_names(self.train.optimizer):
                c = {k: np.zeros(p.shape) for k, p in node.params.items()}
                c[cname] = np.asarray(state[f"{canon}.{slot}"], np.float64)
                var = self.optimizer.xnn_slots[slot][vi]
                var.assign(np.asarray(low[node.kind].to_native(node, c)[j]).reshape(var.shape).astype(var.dtype))

    def _seed_vars(self) -> list:
        return [v for v in self.model.variables if "seed_generator" in v.path]

    def rng_state(self) -> dict[str, np.ndarray]:
        """Keras seed-generator states of the model's layers (Dropout masks)."""
        return {f"rng.keras.{i}": np.asarray(v.numpy()) for i, v in enumerate(self._seed_vars())}

    def load_rng_state(self, state: dict[str, np.ndarray]) -> None:
        for i, v in enumerate(self._seed_vars()):
            key = f"rng.keras.{i}"
            if key in state:
                v.assign(state[key].astype(v.dtype))
