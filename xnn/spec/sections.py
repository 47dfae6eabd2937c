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
    # The string right under each field is its description in ``xnn schema`` (read by
    # xnn/cli/cmd_schema.py).
    model_config = ConfigDict(extra="forbid")


class InputSpec(_S):
    """Per-sample input: shape channels-last, without the batch axis."""

    shape: list[PositiveInt]
    """Per-sample shape, channels-last, without the batch axis: [H, W, C], [L, C], [T] or [F]."""
    dtype: Literal["float32", "float64", "int64", "int32"] = "float32"
    """Element type: int64/int32 for token ids (Embedding, SequenceMask); float inputs run in train.dtype."""
    name: str = "input"
    """A name for the input, kept in the spec; nodes always refer to the input as "input"."""


# ---------------------------------------------------------------- losses
class CrossEntropy(_S):
    type: Literal["cross_entropy"] = "cross_entropy"
    """Softmax cross-entropy on logits (integer labels or one-hot/soft rows; class axis last)."""
    label_smoothing: Prob = 0.0
    """ε in [0, 1): targets become y(1-ε) + ε/K (PyTorch's label_smoothing)."""


class BinaryCrossEntropy(_S):
    type: Literal["binary_cross_entropy"] = "binary_cross_entropy"
    """Sigmoid binary cross-entropy on logits (PyTorch's BCEWithLogitsLoss); no smoothing."""


class MSE(_S):
    type: Literal["mse"] = "mse"
    """Mean squared error, mean((z - y)²) over all elements."""


class MAE(_S):
    type: Literal["mae"] = "mae"
    """Mean absolute error, mean(|z - y|) over all elements."""


class Huber(_S):
    type: Literal["huber"] = "huber"
    """Huber loss (PyTorch's HuberLoss): 0.5d² where |d| <= delta, else delta(|d| - delta/2)."""
    delta: PositiveFloat = 1.0
    """Threshold δ > 0 between the quadratic and the linear part."""


Loss = Annotated[Union[CrossEntropy, BinaryCrossEntropy, MSE, MAE, Huber], Field(discriminator="type")]


# ---------------------------------------------------------------- optimizers
class SGD(_S):
    type: Literal["sgd"] = "sgd"
    """Stochastic gradient descent (PyTorch's formula)."""
    lr: PositiveFloat = 0.01
    """Learning rate (before the schedule)."""
    momentum: NonNegFloat = 0.0
    """Momentum μ >= 0: b = μb + (1-dampening)g; 0: plain SGD."""
    dampening: NonNegFloat = 0.0
    """Dampening τ of the momentum buffer update (PyTorch's); nesterov needs 0."""
    nesterov: bool = False
    """Nesterov momentum: g + μb instead of b (needs momentum > 0, dampening 0)."""
    weight_decay: NonNegFloat = 0.0
    """Coupled L2: g += weight_decay·θ before the update (excluded groups: train.weight_decay_exclude)."""


class Adam(_S):
    type: Literal["adam"] = "adam"
    """Adam (PyTorch's formula; eps outside the bias-corrected square root)."""
    lr: PositiveFloat = 1e-3
    """Learning rate (before the schedule)."""
    betas: tuple[Prob, Prob] = (0.9, 0.999)
    """[β1, β2], decay rates of the first and second moment estimates."""
    eps: PositiveFloat = 1e-8
    """ε added outside the square root: m̂ / (sqrt(v̂) + ε) (PyTorch's placement)."""
    weight_decay: NonNegFloat = 0.0
    """Coupled L2: g += weight_decay·θ (Adam, not AdamW; excluded: train.weight_decay_exclude)."""


class AdamW(_S):
    type: Literal["adamw"] = "adamw"
    """AdamW: Adam with decoupled weight decay (PyTorch's formula)."""
    lr: PositiveFloat = 1e-3
    """Learning rate (before the schedule)."""
    betas: tuple[Prob, Prob] = (0.9, 0.999)
    """[β1, β2], decay rates of the first and second moment estimates."""
    eps: PositiveFloat = 1e-8
    """ε added outside the square root: m̂ / (sqrt(v̂) + ε) (PyTorch's placement)."""
    weight_decay: NonNegFloat = 0.01
    """Decoupled decay applied first: θ *= 1 - lr·weight_decay (excluded: train.weight_decay_exclude)."""


class RMSprop(_S):
    type: Literal["rmsprop"] = "rmsprop"
    """RMSprop (PyTorch's formula; eps outside the square root)."""
    lr: PositiveFloat = 0.01
    """Learning rate (before the schedule)."""
    alpha: Prob = 0.99
    """Smoothing constant α of the squared-gradient average: v = αv + (1-α)g² (PyTorch's alpha)."""
    eps: PositiveFloat = 1e-8
    """ε added outside the square root: g / (sqrt(v) + ε) (PyTorch's placement)."""
    momentum: NonNegFloat = 0.0
    """Momentum μ >= 0 of the update buffer; 0: none."""
    centered: bool = False
    """Centered RMSprop: divide by the square root of v minus the squared mean gradient."""
    weight_decay: NonNegFloat = 0.0
    """Coupled L2: g += weight_decay·θ (excluded groups: train.weight_decay_exclude)."""


class Adagrad(_S):
    type: Literal["adagrad"] = "adagrad"
    """Adagrad (PyTorch's formula): s += g², θ -= lr·g / (sqrt(s) + ε)."""
    lr: PositiveFloat = 0.01
    """Learning rate (before the schedule)."""
    eps: PositiveFloat = 1e-10
    """ε added outside the square root of the accumulator."""
    initial_accumulator_value: NonNegFloat = 0.0
    """Starting value s0 of the squared-gradient accumulator."""
    weight_decay: NonNegFloat = 0.0
    """Coupled L2: g += weight_decay·θ (excluded groups: train.weight_decay_exclude)."""


Optimizer = Annotated[Union[SGD, Adam, AdamW, RMSprop, Adagrad], Field(discriminator="type")]


# ---------------------------------------------------------------- schedules (per optimizer step)
class Constant(_S):
    type: Literal["constant"] = "constant"
    """Constant learning rate (optimizer.lr) after the warmup."""
    warmup_steps: Annotated[int, Field(ge=0)] = 0
    """Optimizer steps of linear warmup: lr·(t+1)/(W+1) for step t < W; 0: none."""


class Step(_S):
    type: Literal["step"] = "step"
    """Step decay: lr·gamma^floor(s / step_size), s = optimizer steps after warmup."""
    step_size: PositiveInt
    """Optimizer steps (not epochs) between two decays."""
    gamma: PositiveFloat = 0.1
    """Factor applied to the learning rate at each decay."""
    warmup_steps: Annotated[int, Field(ge=0)] = 0
    """Optimizer steps of linear warmup: lr·(t+1)/(W+1) for step t < W; 0: none."""


class Exponential(_S):
    type: Literal["exponential"] = "exponential"
    """Continuous exponential decay: lr·gamma^(s / decay_steps), s = optimizer steps after warmup."""
    gamma: PositiveFloat
    """Decay factor per decay_steps optimizer steps (required)."""
    decay_steps: PositiveInt = 1
    """Optimizer steps over which the learning rate is multiplied by gamma."""
    warmup_steps: Annotated[int, Field(ge=0)] = 0
    """Optimizer steps of linear warmup: lr·(t+1)/(W+1) for step t < W; 0: none."""


class Cosine(_S):
    type: Literal["cosine"] = "cosine"
    """Cosine decay from lr to min_lr over total_steps, then clamped at min_lr (not periodic)."""
    total_steps: PositiveInt | None = None
    """Optimizer steps of the whole schedule, warmup included; default: epochs × steps per epoch."""
    min_lr: NonNegFloat = 0.0
    """Learning rate reached at total_steps and kept after."""
    warmup_steps: Annotated[int, Field(ge=0)] = 0
    """Optimizer steps of linear warmup: lr·(t+1)/(W+1) for step t < W; 0: none."""


Schedule = Annotated[Union[Constant, Step, Exponential, Cosine], Field(discriminator="type")]


class EarlyStopping(_S):
    monitor: Literal["val_loss", "val_accuracy", "val_mean_iou"] = "val_loss"
    """Quantity watched each epoch: val_loss (minimized) or val_accuracy/val_mean_iou (maximized)."""
    patience: PositiveInt = 5
    """Epochs without improvement after which training stops."""
    min_delta: NonNegFloat = 0.0
    """An epoch improves only when it beats the best by more than this."""
    restore_best: bool = True
    """Put the best epoch's weights back when training stops."""


class TensorBoardSpec(_S):
    """``train.tensorboard``: TensorBoard event files (docs/experiments.md lists the tags).
    ``train.tensorboard: DIR`` is short for ``{dir: DIR}``."""

    dir: Annotated[str, Field(min_length=1)]
    """Directory the TensorBoard event files are written to."""
    every: PositiveInt = 1
    """Optimizer steps between logged steps (step scalars, gradient and weight norms)."""
    histogram_every: PositiveInt | None = None
    """Optimizer steps between weight/gradient histograms; default: once per epoch."""
    graph: bool = False
    """Also write the model graph (torch: its tracer imports TensorFlow when installed, seconds)."""


class TrainSpec(_S):
    epochs: PositiveInt = 10
    """Passes over the training split."""
    batch_size: PositiveInt = 32
    """Samples per optimizer step (the last, partial batch is kept)."""
    seed: Annotated[int, Field(ge=0)] = 0
    """Seed of weight init, shuffling, dropout and (by default) the data split."""
    dtype: Literal["float32", "float64"] = "float32"
    """Floating-point type of parameters and computation."""
    loss: Loss = Field(default_factory=CrossEntropy)
    """The training loss, a mean over all elements"""
    optimizer: Optimizer = Field(default_factory=Adam)
    """The optimizer (PyTorch's update formulas on every backend)"""
    schedule: Schedule = Field(default_factory=Constant)
    """The learning-rate schedule, applied per optimizer step"""
    weight_decay_exclude: list[Literal["bias", "norm", "embedding"]] = Field(default_factory=lambda: ["bias", "norm"])
    """Parameter groups that get no weight decay."""
    clip_grad_norm: PositiveFloat | None = None
    """Clip the global L2 norm of all gradients to this (PyTorch's clip_grad_norm_); default: none."""
    early_stopping: EarlyStopping | None = None
    """Stop when a validation quantity stops improving; default: off."""
    class_weights: list[PositiveFloat] | Literal["balanced"] | None = None
    """Cross-entropy class weights: one per class, or balanced (N / (K·count)); default: none."""
    frozen: list[str] = Field(default_factory=list)
    """Names of nodes whose parameters are not trained (as trainable: false on each)."""
    metrics: list[Literal["accuracy", "mean_iou", "mae", "mse"]] = Field(default_factory=lambda: ["accuracy"])
    """Metrics computed each epoch (by xnn in NumPy) on the training and validation splits."""
    checkpoint_every: PositiveInt = 1
    """Epochs between checkpoints."""
    checkpoint_steps: PositiveInt | None = None
    """Also checkpoint every this many optimizer steps inside an epoch; default: none."""
    threads: PositiveInt | None = None
    """CPU threads of the backend (torch.set_num_threads / TF intra-op); default: the framework's."""
    device: str = "cpu"
    """Device to train on: cpu, cuda or cuda:N (Keras: the matching /GPU:N)."""
    tf32: bool = False
    """Allow TF32 matrix products on NVIDIA GPUs (faster, less exact); off by default."""
    compile: bool = False
    """torch.compile (torch) / XLA jit_compile (Keras) for the train step; same formulas."""
    tensorboard: TensorBoardSpec | None = None
    """TensorBoard event files (or just the directory); default: none (xnn train --tensorboard DIR)."""

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
    """Fraction of the samples held out for validation (val + test < 1)."""
    test: Prob = 0.2
    """Fraction of the samples held out for the final test."""
    stratify: bool = True
    """Split each class in the same proportions (when labels are one per sample)."""
    seed: Annotated[int, Field(ge=0)] | None = None
    """Seed of the split; default: train.seed."""


class AugmentSpec(_S):
    flip: Literal["none", "horizontal", "vertical", "both"] = "none"
    """Random flips, each with probability 1/2: horizontal (W, or L for signals), vertical (H), both."""
    shift: Annotated[int, Field(ge=0)] = 0
    """Random shift of every spatial axis by up to this many cells, zero fill; 0: none."""


class DataSpec(_S):
    source: str = "digits"
    """A built-in (digits, iris, synthetic_*; docs/data.md) or a data file path (.npz, .npy, .csv, .mat)."""
    options: dict = Field(default_factory=dict)
    """Options of the source (n_samples, x_key, target...; docs/data.md lists them per source)."""
    x: Literal["none", "standardize", "minmax"] = "none"
    """Input preprocessing fitted on the training split: standardize or minmax per feature/channel."""
    y: Literal["none", "onehot", "standardize"] = "none"
    """Target preprocessing: onehot (integer labels to one-hot) or standardize (per output column)."""
    split: SplitSpec = Field(default_factory=SplitSpec)
    """Seeded train/validation/test split."""
    augment: AugmentSpec = Field(default_factory=AugmentSpec)
    """Random flips and shifts of the training inputs, per batch."""
    shuffle: bool = True
    """Shuffle the training samples every epoch (seeded)."""


# ---------------------------------------------------------------- parallel
class ParallelSpec(_S):
    mode: Literal["none", "data", "model"] = "none"
    """none, data (replicas on several processes/devices) or model (pipeline stages on devices)."""
    workers: PositiveInt = 1
    """Data parallel: processes (torch) / replicas (Keras)."""
    devices: list[str] = Field(default_factory=list)
    """Data: one device per worker; model: one per stage (cpu, cuda:0, /GPU:1); default: CPU."""
    sync: bool = True
    """Data: synchronous (averaged gradients); false: asynchronous SGD through a parameter server."""
    max_staleness: Annotated[int, Field(ge=0)] = 4
    """Asynchronous: bound on a gradient's staleness (updates since its weights); a staler one is redone."""
    sync_batchnorm: bool = True
    """Synchronous: BatchNorm statistics over the global batch."""
    accumulate: PositiveInt = 1
    """Synchronous: micro-steps per optimizer step (same step, less memory)."""
    stages: list[list[str]] | PositiveInt | None = None
    """Model: a number of stages (balanced by parameter count) or lists of node names per stage."""
    microbatches: PositiveInt = 1
    """Model: microbatches each batch is cut into for the pipeline."""
    schedule: Literal["gpipe", "1f1b"] = "gpipe"
    """Model: pipeline schedule, gpipe or 1f1b (torch only)."""
    timeout_s: PositiveInt = 60
    """Seconds a collective waits before a dead or hung peer ends the job."""


# ---------------------------------------------------------------- search (xnn tune; docs/tuning.md)
class SearchPruner(_S):
    """When ``xnn tune`` stops a trial early, judged on the per-epoch value of ``search.metric``."""

    type: Literal["median", "hyperband", "none"] = "median"
    """median, hyperband, or none (no pruning)."""
    startup_trials: Annotated[int, Field(ge=0)] = 5
    """Median: trials that must finish before any is pruned."""
    warmup_epochs: Annotated[int, Field(ge=0)] = 0
    """Median: first epochs of each trial that are never pruned."""
    min_epochs: PositiveInt = 1
    """Hyperband: the smallest budget (epochs) of a bracket."""
    reduction_factor: Annotated[int, Field(ge=2)] = 3
    """Hyperband: the factor between the budgets of successive rungs."""


class SearchSpec(_S):
    """``search``: the options below, and any other key is a dotted spec path mapped to a
    distribution (``{uniform|loguniform|int: [lo, hi]}``, ``{choice: [...]}``), checked by
    :mod:`xnn.tune.space` (which never imports optuna)."""

    model_config = ConfigDict(extra="allow")

    trials: PositiveInt = 20
    """Trials of the study (--trials overrides); a continued study runs only the missing ones."""
    metric: str = "val_loss"
    """Value each trial is judged on: loss, val_loss, <metric> or val_<metric> of train.metrics."""
    direction: Literal["minimize", "maximize"] | None = None
    """minimize or maximize; default: minimize losses and errors (loss, mae, mse), maximize the rest."""
    sampler: Literal["tpe", "random"] = "tpe"
    """tpe (Optuna's TPE: 10 random trials, then model-based) or random."""
    pruner: SearchPruner = Field(default_factory=SearchPruner)
    """When a trial is stopped early (per-epoch metric): median, hyperband, none, or a mapping."""
    seed: Annotated[int, Field(ge=0)] | None = None
    """The sampler's seed; default: train.seed."""

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v):
        if isinstance(v, dict) and isinstance(v.get("pruner"), str):
            v = {**v, "pruner": {"type": v["pruner"]}}
        return v
