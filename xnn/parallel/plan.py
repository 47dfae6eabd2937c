"""Framework-neutral planning of a parallel run: validation, pipeline stages, data sharding.

Nothing here imports torch or tensorflow; both backends call these functions so that the
rules (what is valid, where a pipeline is cut, which samples a worker sees) are defined once.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import numpy as np

if TYPE_CHECKING:
    from ..spec.model import Spec

NORM_KINDS = ("BatchNorm", "BatchNorm1D", "BatchNorm2D", "BatchNormalization")


def has_batchnorm(spec: "Spec") -> bool:
    """True when the graph holds a layer with running statistics (a BatchNorm kind)."""
    return any(n.kind.startswith("BatchNorm") for n in spec.nodes)


# ------------------------------------------------------------------------------ stage cuts
def _live_after(spec: "Spec") -> list[set[str]]:
    """For each position i, the tensors produced at or before node i that a later node reads.

    A pipeline may be cut after node i only when exactly one tensor crosses the cut.
    """
    names = [n.name for n in spec.nodes]
    pos = {"input": -1, **{n: i for i, n in enumerate(names)}}
    last_use: dict[str, int] = {}
    for i, n in enumerate(spec.nodes):
        for src in n.inputs:
            last_use[src] = max(last_use.get(src, -1), i)
    out = []
    for i in range(len(names)):
        out.append({t for t, p in pos.items() if p <= i and last_use.get(t, -1) > i})
    return out


def valid_cuts(spec: "Spec") -> list[int]:
    """Indices i such that a stage may end after node i (one tensor crosses, not the output)."""
    live = _live_after(spec)
    return [i for i in range(len(spec.nodes) - 1) if len(live[i]) == 1]


def balance_stages(spec: "Spec", n: int) -> list[list[str]]:
    """Split the nodes (topological order) into ``n`` contiguous stages, balanced by parameter count.

    Minimises the largest stage's parameter count (ties: the most even node counts) over the
    cuts where a single tensor crosses. Raises ValueError when ``n`` stages cannot be formed.
    """
    nodes = spec.nodes
    cuts = set(valid_cuts(spec))
    if n > len(cuts) + 1:
        raise ValueError(f"{n} stages need {n - 1} cut points, the graph offers {len(cuts)}")
    w = [int(sum(int(np.prod(p.shape)) for p in nd.params.values() if p.trainable)) for nd in nodes]
    pre = np.concatenate([[0], np.cumsum(w)])
    L = len(nodes)
    INF = (float("inf"), float("inf"))
    # best[k][j]: best (max params, max nodes) splitting nodes[:j] into k stages; j-1 ends a stage
    best = [[INF] * (L + 1) for _ in range(n + 1)]
    arg = [[-1] * (L + 1) for _ in range(n + 1)]
    best[0][0] = (0, 0)
    for k in range(1, n + 1):
        for j in range(1, L + 1):
            if j < L and (j - 1) not in cuts:
                continue
            for i in range(k - 1, j):
                if best[k - 1][i] == INF or (i > 0 and (i - 1) not in cuts):
                    continue
                cand = (max(best[k - 1][i][0], pre[j] - pre[i]), max(best[k - 1][i][1], j - i))
                if cand < best[k][j]:
                    best[k][j], arg[k][j] = cand, i
    if best[n][L] == INF:
        raise ValueError(f"cannot split {L} nodes into {n} stages")
    out, j = [], L
    for k in range(n, 0, -1):
        i = arg[k][j]
        out.append([nd.name for nd in nodes[i:j]])
        j = i
    return out[::-1]


def resolve_stages(spec: "Spec") -> list[list[str]]:
    """The pipeline stages of a ``mode: model`` spec as node-name lists (validated spec)."""
    st = spec.parallel.stages
    if isinstance(st, int):
        return balance_stages(spec, st)
    return [list(s) for s in st]


def stage_boundaries(spec: "Spec", stages: list[list[str]]) -> list[str]:
    """The tensor (node name or ``input``) entering each stage: ``[input, out_of_stage0, ...]``."""
    live = _live_after(spec)
    idx = {nd.name: i for i, nd in enumerate(spec.nodes)}
    out = ["input"]
    for s in stages[:-1]:
        (t,) = live[idx[s[-1]]]
        out.append(t)
    return out


# ------------------------------------------------------------------------------ validation
def check_parallel(spec: "Spec") -> list[str]:
    """Every problem with ``spec.parallel`` that can be found before anything starts."""
    p = spec.parallel
    errs: list[str] = []
    bs = spec.train.batch_size
    if p.mode == "none":
        if p.workers != 1:
            errs.append(f"parallel.workers: needs mode: data (received {p.workers} with mode: none)")
        if p.stages is not None:
            errs.append("parallel.stages: needs mode: model (received stages with mode: none)")
        return errs
    if not p.sync and p.mode != "data":
        errs.append(f"parallel.sync: asynchronous SGD (sync: false) needs mode: data; mode: {p.mode} cannot run it")
    if p.mode == "data":
        if p.stages is not None:
            errs.append("parallel.stages: applies to mode: model only")
        if p.devices and len(p.devices) != p.workers:
            errs.append(f"parallel.devices: needs one device per worker ({p.workers}) (received {len(p.devices)})")
        if p.sync and p.workers * p.accumulate > bs:
            errs.append(f"parallel.workers: {p.workers} workers x accumulate {p.accumulate} need train.batch_size >= "
                        f"{p.workers * p.accumulate} (received batch_size {bs}): each worker needs at least one sample per micro-step")
        if not p.sync:
            if p.workers < 2:
                errs.append(f"parallel.workers: asynchronous SGD needs at least 2 workers (received {p.workers})")
            if p.accumulate != 1:
                errs.append(f"parallel.accumulate: gradient accumulation needs sync: true (received {p.accumulate})")
            if has_batchnorm(spec):
                errs.append("parallel.sync: asynchronous SGD cannot keep BatchNorm running statistics consistent; "
                            "use sync: true (with sync_batchnorm) for models with BatchNorm")
            if p.max_staleness < 1 and p.workers > 1:
                pass  # 0 is allowed: the server then accepts only fresh gradients (serialises workers)
        return errs
    # mode: model
    if p.workers != 1:
        errs.append(f"parallel.workers: mode: model runs one pipeline; use stages and microbatches (received workers {p.workers})")
    if p.accumulate != 1:
        errs.append(f"parallel.accumulate: mode: model accumulates over microbatches; leave accumulate at 1 (received {p.accumulate})")
    if p.stages is None:
        errs.append("parallel.stages: required for mode: model (a number of stages or a list of node-name lists)")
        return errs
    names = [nd.name for nd in spec.nodes]
    if isinstance(p.stages, int):
        if p.stages < 2:
            errs.append(f"parallel.stages: a pipeline needs at least 2 stages (received {p.stages})")
        else:
            try:
                balance_stages(spec, p.stages)
            except ValueError as e:
                errs.append(f"parallel.stages: {e}")
        n_st = p.stages
    else:
        n_st = len(p.stages)
        if n_st < 2:
            errs.append(f"parallel.stages: a pipeline needs at least 2 stages (received {n_st})")
        seen: dict[str, int] = {}
        for si, st in enumerate(p.stages):
            if not st:
                errs.append(f"parallel.stages[{si}]: empty stage")
            for ni, name in enumerate(st):
                if name not in names:
                    errs.append(f"parallel.stages[{si}][{ni}]: no node named {name!r}")
                elif name in seen:
                    errs.append(f"parallel.stages[{si}][{ni}]: node {name!r} is already in stage {seen[name]}")
                else:
                    seen[name] = si
        missing = [nm for nm in names if nm not in seen]
        if missing:
            errs.append(f"parallel.stages: the stages do not cover the graph; nodes in no stage: {missing}")
        if not errs:
            flat = [nm for st in p.stages for nm in st]
            if flat != names:
                errs.append("parallel.stages: stages must list the nodes in graph order, each stage a contiguous run "
                            f"(graph order: {names})")
            else:
                live = _live_after(spec)
                idx = {nm: i for i, nm in enumerate(names)}
                for si, st in enumerate(p.stages[:-1]):
                    t = live[idx[st[-1]]]
                    if len(t) != 1:
                        errs.append(f"parallel.stages[{si}]: {len(t)} tensors cross from this stage to the next "
                                    f"({sorted(t)}); a pipeline stage must hand on exactly one")
    if p.devices and len(p.devices) != n_st:
        errs.append(f"parallel.devices: needs one device per stage ({n_st}) (received {len(p.devices)})")
    if p.microbatches > bs:
        errs.append(f"parallel.microbatches: {p.microbatches} microbatches need train.batch_size >= {p.microbatches} (received {bs})")
    return errs


def check_data_size(spec: "Spec", n_train: int) -> list[str]:
    """Checks that need the number of training samples (run before any worker starts)."""
    p = spec.parallel
    bs = spec.train.batch_size
    n_batches = -(-n_train // bs)
    errs = []
    if p.mode == "data" and not p.sync and p.workers > n_batches:
        errs.append(f"parallel.workers: {p.workers} asynchronous workers but only {n_batches} batches per epoch "
                    f"({n_train} samples / batch_size {bs}): every worker needs at least one batch")
    if p.mode == "data" and p.sync:
        tail = n_train % bs
        need = p.workers * p.accumulate
        if 0 < tail < need:
            errs.append(f"parallel.workers: the last batch of each epoch has {tail} samples, fewer than workers x accumulate "
                        f"({need}); choose train.batch_size so that {n_train} % batch_size is 0 or >= {need}")
    if p.mode == "model":
        tail = n_train % bs
        if 0 < tail < p.microbatches:
            errs.append(f"parallel.microbatches: the last batch has {tail} samples, fewer than {p.microbatches} microbatches")
    return errs


# ------------------------------------------------------------------------------ sharding
def loss_norm(spec, y: np.ndarray, class_weights: np.ndarray | None) -> float:
    """The denominator of xnn's mean loss for targets ``y`` (what shards must be weighted by)."""
    lt = spec.train.loss.type
    if lt == "cross_entropy" and class_weights is not None:
        y = np.asarray(y)
        if np.issubdtype(y.dtype, np.integer):
            return float(np.asarray(class_weights)[y.reshape(-1)].sum())
        k = len(class_weights)
        return float((y.reshape(-1, k) * class_weights).sum())
    return float(len(y))


def split_counts(n: int, parts: int) -> list[int]:
    """Sizes of ``parts`` contiguous slices of ``n`` items (first slices one larger): np.array_split's rule."""
    q, r = divmod(n, parts)
    return [q + 1 if i < r else q for i in range(parts)]


def shard(xb: np.ndarray, yb: np.ndarray, rank: int, world: int) -> tuple[np.ndarray, np.ndarray]:
    """Rank ``rank``'s contiguous slice of one global batch ``(B, ...)`` -> ``(B_r, ...)``.

    Concatenating the shards of ranks 0..world-1 gives the global batch back in order, so a
    data-parallel step sees exactly the samples of the single-process step.
    """
    c = split_counts(len(xb), world)
    a = sum(c[:rank])
    return xb[a:a + c[rank]], yb[a:a + c[rank]]


def sharded_batches(spec: "Spec", x: np.ndarray, y: np.ndarray, epoch: int, rank: int, world: int,
                    shuffle: bool | None = None) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
    """Yield ``(x_r, y_r, global_batch_size)`` for one epoch: the single-process batch order, sharded."""
    from ..data import batches

    sh = spec.data.shuffle if shuffle is None else shuffle
    for xb, yb in batches(x, y, spec.train.batch_size, spec.train.seed, epoch, sh, augment=spec.data.augment):
        xr, yr = shard(xb, yb, rank, world)
        yield xr, yr, len(xb)


def stage_specs(spec: "Spec", stages: list[list[str]]) -> list["Spec"]:
    """One stand-alone spec per stage: input = the tensor entering it (shape from the graph), its
    nodes with that tensor renamed ``input``. Parameters keep their ``<node>.<param>`` names, so
    the union of the stages' canonical weights is the whole model's. Only the last stage keeps the
    loss (and class weights); the others get ``mse`` (never used: the driver computes the loss).
    """
    from ..spec.model import from_dict

    entries = stage_boundaries(spec, stages)
    shapes = {"input": spec.input_shape, **{n.name: n.out_shape for n in spec.nodes}}
    raw = spec.to_dict()
    layers = {d["name"]: d for d in raw["model"]}
    out = []
    for i, (names, entry) in enumerate(zip(stages, entries)):
        model = []
        for j, nm in enumerate(names):
            d = dict(layers[nm])
            ins = list(spec.node_map[nm].inputs)
            if j == 0 or entry in ins:
                d["inputs"] = ["input" if x == entry else x for x in ins]
            model.append(d)
        train = dict(raw["train"])
        train["frozen"] = [f for f in train.get("frozen", []) if f in names]
        if i < len(stages) - 1:
            train["loss"] = {"type": "mse"}
            train["class_weights"] = None
        in_dtype = raw["input"]["dtype"] if i == 0 else spec.train.dtype
        out.append(from_dict({"xnn": raw["xnn"], "name": f"{raw['name']}_stage{i}",
                              "input": {"shape": list(shapes[entry]), "dtype": in_dtype},
                              "model": model, "train": train, "data": raw["data"], "parallel": {}}))
    return out
