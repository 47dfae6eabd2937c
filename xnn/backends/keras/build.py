"""Compile a spec into a native functional ``keras.Model`` (Keras 3 on TensorFlow)."""
from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # deterministic, reference-exact kernels

import keras  # noqa: E402
import numpy as np  # noqa: E402

from .lowering import Ctx, lowerings  # noqa: E402

if keras.backend.backend() != "tensorflow":
    raise ImportError(f"xnn's keras backend needs KERAS_BACKEND=tensorflow (found {keras.backend.backend()!r})")


def load_model(path, **kw):
    """``keras.saving.load_model(path)`` for a model xnn built and the user saved with
    ``model.save("m.keras")``: importing this backend registered xnn's own layer classes
    (XnnBatchNorm, ...) for Keras to deserialize (see ``__init__``)."""
    return keras.saving.load_model(path, **kw)


def build(spec, params: dict[str, np.ndarray] | None = None, dtype: str = "float32", device: str = "cpu"):
    """Native Keras model for ``spec``; loads ``params`` (canonical) when given, else seeded init."""
    import tensorflow as tf

    from ...init import init_params

    low = lowerings()
    ctx = Ctx(dtype)
    with tf.device(_tf_device(device)):
        in_dtype = spec.input.dtype if spec.input.dtype.startswith("int") else dtype
        inp = keras.Input(shape=spec.input_shape, dtype=in_dtype, name="input")
        acts = {"input": inp}
        for node in spec.nodes:
            lw = low[node.kind]
            layer = lw.build(node, ctx)
            acts[node.name] = lw.apply(layer, [acts[i] for i in node.inputs], node, ctx)
        model = keras.Model(inp, acts[spec.nodes[-1].name], name=_safe(spec.name))
    model._xnn_spec = spec
    set_params(model, params if params is not None else init_params(spec))
    return model


def _tf_device(device: str) -> str:
    if device.startswith("cuda"):
        idx = device.split(":")[1] if ":" in device else "0"
        return f"/GPU:{idx}"
    return "/CPU:0"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "model"


def set_params(model, params: dict[str, np.ndarray]) -> None:
    """Load canonical params into the Keras model, exactly (converted to Keras layouts)."""
    spec = model._xnn_spec
    low = lowerings()
    for node in spec.nodes:
        if not node.params:
            continue
        layer = model.get_layer(node.name)
        mine = {k: params[f"{node.name}.{k}"] for k in node.params}
        native = low[node.kind].to_native(node, mine)
        ref = layer.get_weights()
        layer.set_weights([np.asarray(v, dtype=r.dtype).reshape(r.shape) for v, r in zip(native, ref)])


def get_params(model) -> dict[str, np.ndarray]:
    """Canonical params (float64 NumPy) of a compiled Keras model."""
    spec = model._xnn_spec
    low = lowerings()
    out = {}
    for node in spec.nodes:
        if not node.params:
            continue
        w = model.get_layer(node.name).get_weights()
        for k, v in low[node.kind].from_native(node, w).items():
            out[f"{node.name}.{k}"] = np.array(v, dtype=np.float64).reshape(node.params[k].shape)
    return out


def _predict_fn(model):
    """The model's traced evaluation-mode forward, made once per model: one graph for every batch
    size (the batch dimension is unknown in its signature, so a last partial batch does not trace
    again), no per-call Keras data adapter or eager layer-by-layer dispatch."""
    fn = getattr(model, "_xnn_predict_fn", None)
    if fn is None:
        import tensorflow as tf

        inp = model.inputs[0]
        sig = tf.TensorSpec([None, *inp.shape[1:]], inp.dtype)
        fn = tf.function(lambda x: model(x, training=False), input_signature=[sig], reduce_retracing=True)
        model._xnn_predict_fn = fn
    return fn


def predict(model, x: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Evaluation-mode forward on NumPy input, batched; returns NumPy."""
    fn = _predict_fn(model)
    dt = np.dtype(model.inputs[0].dtype)
    x = np.asarray(x)
    outs = []
    for i in range(0, len(x), batch_size):
        outs.append(fn(x[i:i + batch_size].astype(dt, copy=False)).numpy())
    return np.concatenate(outs) if outs else np.zeros((0, *model._xnn_spec.output.out_shape))
