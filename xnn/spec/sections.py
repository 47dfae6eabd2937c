"""The non-model sections of a spec: input, train, data, parallel.

Defaults are xnn's (PyTorch's where frameworks differ); docs/semantics.md gives each formula.
"""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

PositiveFloat = Annotated[float, Field(gt=0)]
NonNegFloat = Annotated[float, Field(ge=0)]
Prob = Annotated[float, Field(ge=0, lt=1)]


class _S(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InputSpec(_S):
    """Per-sample input: shape channels-last, without the batch axis."""

    shape: list[PositiveInt]
    dtype: Literal["float32", "float64", "int64", "int32"] = "float32"
    name: str = "input"


# ---------------------------------------------------------------- losses
class CrossEntropy(_S):
    type: Literal["cross_entropy"] = "cross_entropy"
    label_smoothing: Prob = 0.0


class BinaryCrossEntropy(_S):
    type: Literal["binary_cross_entropy"] = "binary_cross_entropy"


class MSE(_S):
    type: Literal["mse"] = "mse"


class MAE(_S):
    type: Literal["mae"] = "mae"


class Huber(_S):
    type: Literal["huber"] = "huber"
    delta: PositiveFloat = 1.0


Loss = Annotated[Union[CrossEntropy, BinaryCrossEntropy, MSE, MAE, Huber], Field(discriminator="type")]


# ---------------------------------------------------------------- optimizers
class SGD(_S):
    type: Literal["sgd"] = "sgd"
    lr: PositiveFloat = 0.01
    momentum: NonNegFloat = 0.0
    dampening: NonNegFloat = 0.0
    nesterov: bool = False
    weight_decay: NonNegFloat = 0.0  # coupled L2 (g += wd * theta)


class Adam(_S):
    type: Literal["adam"] = "adam"
    lr: PositiveFloat = 1e-3
    betas: tuple[Prob, Prob] = (0.9, 0.999)
    eps: PositiveFloat = 1e-8  # outside the square root
    weight_decay: NonNegFloat = 0.0  # coupled L2


class AdamW(_S):
    type: Literal["adamw"] = "adamw"
    lr: PositiveFloat = 1e-3
    betas: tuple[Prob, Prob] = (0.9, 0.999)
    eps: PositiveFloat = 1e-8
    weight_decay: NonNegFloat = 0.01  # decoupled: theta *= 1 - lr * wd


class RMSprop(_S):
    type: Literal["rmsprop"] = "rmsprop"
    lr: PositiveFloat = 0.01
    alpha: Prob = 0.99
    eps: PositiveFloat = 1e-8  # outside the square root
    momentum: NonNegFloat = 0.0
    centered: bool = False
    weight_decay: NonNegFloat = 0.0


class Adagrad(_S):
    type: Literal["adagrad"] = "adagrad"
    lr: PositiveFloat = 0.01
    eps: PositiveFloat = 1e-10
    initial_accumulator_value: NonNegFloat = 0.0
    weight_decay: NonNegFloat = 0.0


Optimizer = Annotated[Union[SGD, Adam, AdamW, RMSprop, Adagrad], Field(discriminator="type")]


# ---------------------------------------------------------------- schedules (per optimizer step)
class Constant(_S):
    type: Literal["constant"] = "constant"
    warmup_steps: Annotated[int, Field(ge=0)] = 0


class Step(_S):
    type: Literal["step"] = "step"
    step_size: PositiveInt  # optimizer steps
    gamma: PositiveFloat = 0.1
    warmup_steps: Annotated[int, Field(ge=0)] = 0


class Exponential(_S):
    type: Literal["exponential"] = "exponential"
    gamma: PositiveFloat  # lr * gamma ** (step / decay_steps)
    decay_steps: PositiveInt = 1
    warmup_steps: Annotated[int, Field(ge=0)] = 0


class Cosine(_S):
    type: Literal["cosine"] = "cosine"
    total_steps: PositiveInt | None = None  # default: epochs * steps per epoch
    min_lr: NonNegFloat = 0.0
    warmup_steps: Annotated[int, Field(ge=0)] = 0


Schedule = Annotated[Union[Constant, Step, Exponential, Cosine], Field(discriminator="type")]


class EarlyStopping(_S):
    monitor: Literal["val_loss", "val_accuracy", "val_mean_iou"] = "val_loss"
    patience: PositiveInt = 5
    min_delta: NonNegFloat = 0.0
    restore_best: bool = True


class TensorBoardSpec(_S):
    """``train.tensorboard``: TensorBoard event files (docs/experiments.md lists the tags).
    ``train.tensorboard: DIR`` is short for ``{dir: DIR}``."""

    dir: Annotated[str, Field(min_length=1)]
    every: PositiveInt = 1  # optimizer steps between logged steps (step scalars, gradient and weight norms)
    histogram_every: PositiveInt | None = None  # optimizer steps between histograms; default: once per epoch
    graph: bool = False  # the model graph (torch: its tracer imports TensorFlow when installed, seconds)


class TrainSpec(_S):
    epochs: PositiveInt = 10
    batch_size: PositiveInt = 32
    seed: Annotated[int, Field(ge=0)] = 0
    dtype: Literal["float32", "float64"] = "float32"
    loss: Loss = Field(default_factory=CrossEntropy)
    optimizer: Optimizer = Field(default_factory=Adam)
    schedule: Schedule = Field(default_factory=Constant)
    weight_decay_exclude: list[Literal["bias", "norm", "embedding"]] = Field(default_factory=lambda: ["bias", "norm"])
    clip_grad_norm: PositiveFloat | None = None
    early_stopping: EarlyStopping | None = None
    class_weights: list[PositiveFloat] | Literal["balanced"] | None = None
    frozen: list[str] = Field(default_factory=list)
    metrics: list[Literal["accuracy", "mean_iou", "mae", "mse"]] = Field(default_factory=lambda: ["accuracy"])
    checkpoint_every: PositiveInt = 1  # epochs
    checkpoint_steps: PositiveInt | None = None  # also every N global steps inside an epoch
    threads: PositiveInt | None = None
    device: str = "cpu"
    tf32: bool = False
    compile: bool = False  # torch.compile (torch) / XLA jit_compile (Keras) for the train step; same formulas
    tensorboard: TensorBoardSpec | None = None  # TensorBoard event files (xnn train --tensorboard DIR)

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v):
        # `loss: mse`, `optimizer: sgd`, `schedule: cosine` are accepted as shorthands.
        if isinstance(v, dict):
            v = dict(v)
            for key in ("loss", "optimizer", "schedule"):
                if isinstance(v.get(key), str):
                    v[key] = {"type": v[key]}
            if isinstance(v.get("tensorboard"), str):
                v["tensorboard"] = {"dir": v["tensorboard"]}
        return v


# ---------------------------------------------------------------- data
class SplitSpec(_S):
    val: Prob = 0.1
    test: Prob = 0.2
    stratify: bool = True
    seed: Annotated[int, Field(ge=0)] | None = None  # default: train.seed


class AugmentSpec(_S):
    flip: Literal["none", "horizontal", "vertical", "both"] = "none"
    shift: Annotated[int, Field(ge=0)] = 0  # max pixels, zero fill


class DataSpec(_S):
    source: str = "digits"  # a built-in (docs/data.md: digits, iris, synthetic_*) or a data file path
    options: dict = Field(default_factory=dict)  # per-source options (n_samples, x_key, target...)
    x: Literal["none", "standardize", "minmax"] = "none"
    y: Literal["none", "onehot", "standardize"] = "none"
    split: SplitSpec = Field(default_factory=SplitSpec)
    augment: AugmentSpec = Field(default_factory=AugmentSpec)
    shuffle: bool = True


# ---------------------------------------------------------------- parallel
class ParallelSpec(_S):
    mode: Literal["none", "data", "model"] = "none"
    workers: PositiveInt = 1
    devices: list[str] = Field(default_factory=list)
    sync: bool = True
    max_staleness: Annotated[int, Field(ge=0)] = 4
    sync_batchnorm: bool = True
    accumulate: PositiveInt = 1
    stages: list[list[str]] | PositiveInt | None = None
    microbatches: PositiveInt = 1
    schedule: Literal["gpipe", "1f1b"] = "gpipe"
    timeout_s: PositiveInt = 60


# ---------------------------------------------------------------- search (xnn tune; docs/tuning.md)
class SearchPruner(_S):
    """When ``xnn tune`` stops a trial early, judged on the per-epoch value of ``search.metric``."""

    type: Literal["median", "hyperband", "none"] = "median"
    startup_trials: Annotated[int, Field(ge=0)] = 5  # median: trials finished before any is pruned
    warmup_epochs: Annotated[int, Field(ge=0)] = 0  # median: epochs of each trial never pruned
    min_epochs: PositiveInt = 1  # hyperband: the smallest budget (epochs) of a bracket
    reduction_factor: Annotated[int, Field(ge=2)] = 3  # hyperband


class SearchSpec(_S):
    """``search``: the options below, and any other key is a dotted spec path mapped to a
    distribution (``{uniform|loguniform|int: [lo, hi]}``, ``{choice: [...]}``), checked by
    :mod:`xnn.tune.space` (which never imports optuna)."""

    model_config = ConfigDict(extra="allow")

    trials: PositiveInt = 20
    metric: str = "val_loss"  # loss | val_loss | <metric> | val_<metric> of train.metrics
    direction: Literal["minimize", "maximize"] | None = None  # default: minimize losses/errors, maximize the rest
    sampler: Literal["tpe", "random"] = "tpe"
    pruner: SearchPruner = Field(default_factory=SearchPruner)
    seed: Annotated[int, Field(ge=0)] | None = None  # the sampler's; default train.seed

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v):
        if isinstance(v, dict) and isinstance(v.get("pruner"), str):
            v = {**v, "pruner": {"type": v["pruner"]}}
        return v
