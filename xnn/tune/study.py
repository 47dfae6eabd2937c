"""``xnn tune``: an Optuna study over a spec's ``search`` section (docs/tuning.md).

Each trial is an ordinary run folder ``OUT/trial_NNNN/`` written by :func:`xnn.train.fit`, plus a
``trial.json`` sidecar (the study, the sampled values, the state, the objective). The study lives
in an Optuna RDB storage (default ``OUT/study.db``, SQLite), so a second ``xnn tune`` with the
same ``--study`` (or the same ``--out``) continues it.

Pruning between epochs. ``fit``'s ``callback`` is called after every *step* with the training
loss only, and an exception raised from it ends the run as ``failed`` without final weights or
metrics.json, so a trial is trained one epoch per ``fit`` call instead: epoch k is
``fit(spec with train.epochs=k, resume=True)`` on the same engine (the model and its compiled
step are built once per trial; resume reloads the weights, optimizer state, RNG and early-stopping
state from the epoch's checkpoint, so the final weights equal an uninterrupted run's). After each
epoch the validation value is reported to Optuna, and a pruned trial simply stops: its folder is a
finished run of fewer epochs. The hook that would make this one ``fit`` call: an
``epoch_callback(row) -> bool`` that ``fit`` calls after each epoch's row, stopping like early
stopping (checkpoint, final weights, metrics) when it returns True.

Optuna is imported here only.
"""
from __future__ import annotations

import copy
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import DataError, OutputError, SpecError, TrainingError
from .space import Dim, apply_values, dims_of, direction_of, resolve_path

TUNE_FILE = "tune.json"
HEARTBEAT_S = 10  # a RUNNING trial whose process died is marked FAIL after GRACE_S without a beat
GRACE_S = 30


class TrialFailed(Exception):
    """A trial that could not run or diverged (its spec, data or training failed); the study goes on."""


@dataclass
class Context:
    """What every trial of one ``xnn tune`` needs; JSON-able (it is handed to worker processes)."""

    raw: dict  # the resolved spec without ``search``
    user: dict | None  # the spec as written (for ``type`` switches), without ``search``
    search: dict  # the normalised search section
    backend: str
    storage: str
    study_name: str
    out: str
    seed: int
    quiet: bool = False


@dataclass
class TuneResult:
    study_name: str
    storage: str
    out: Path
    rows: list[dict]
    best: dict | None
    best_yaml: Path | None
    plots: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ran: int = 0


# ------------------------------------------------------------------------------ optuna objects
def _optuna():
    try:
        import optuna
    except ImportError:
        raise TrainingError("xnn tune needs optuna (pip install 'xnn[experiments]', or pip install optuna)") from None

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # xnn prints one line per trial, failures included
    return optuna


def storage_url(study: str | None, out: Path) -> str:
    """An RDB URL; a plain path is a SQLite file; relative SQLite paths are made absolute."""
    if not study:
        return f"sqlite:///{(out / 'study.db').resolve()}"
    if "://" not in study:
        return f"sqlite:///{Path(study).resolve()}"
    if study.startswith("sqlite:///") and not study.startswith("sqlite:////") and study != "sqlite:///:memory:":
        return f"sqlite:///{Path(study[len('sqlite:///'):]).resolve()}"
    return study


_STORAGES: dict[str, Any] = {}


def _storage(url: str):
    """The RDB storage of ``url`` (opened once per process: opening checks the schema, ~seconds)."""
    if url in _STORAGES:
        return _STORAGES[url]
    optuna = _optuna()
    kw = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)  # heartbeat_interval
            st = optuna.storages.RDBStorage(url, engine_kwargs=kw, heartbeat_interval=HEARTBEAT_S, grace_period=GRACE_S)
    except Exception as e:  # noqa: BLE001 - SQLAlchemy/Optuna errors of a bad URL or file
        raise OutputError(f"--study {url}: cannot open the study storage ({type(e).__name__}: "
                          f"{(str(e).splitlines() or [''])[0][:200]})") from None
    _STORAGES[url] = st
    return st


def _sampler(search, seed: int):
    optuna = _optuna()
    if search.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def _pruner(search, raw: dict, dims: list[Dim]):
    optuna = _optuna()
    p = search.pruner
    if p.type == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=p.startup_trials, n_warmup_steps=p.warmup_epochs)
    if p.type == "hyperband":
        epochs_searched = any(resolve_path(d.path, raw) == ["train", "epochs"] for d in dims)
        max_r = "auto" if epochs_searched else int(raw["train"]["epochs"])
        return optuna.pruners.HyperbandPruner(min_resource=p.min_epochs, max_resource=max_r,
                                              reduction_factor=p.reduction_factor)
    return optuna.pruners.NopPruner()


def _search_of(ctx: Context):
    from ..spec.sections import SearchSpec

    return SearchSpec.model_validate(ctx.search)


def open_study(ctx: Context, create: bool = False, worker: int = 0):
    """The study in ``ctx.storage`` with a sampler seeded for this session and worker."""
    optuna = _optuna()
    search = _search_of(ctx)
    dims = dims_of(search)
    storage = _storage(ctx.storage)
    direction = direction_of(search)
    if create:
        try:
            study = optuna.create_study(storage=storage, study_name=ctx.study_name, direction=direction,
                                        load_if_exists=True)
        except ValueError as e:
            raise OutputError(f"--study {ctx.storage}: study {ctx.study_name!r}: {e}") from None
        if study.direction.name.lower() != direction:
            raise OutputError(f"study {ctx.study_name!r} in {ctx.storage} was created to {study.direction.name.lower()}; "
                              f"this spec's search asks to {direction} (use another --study or --study-name)")
        attrs = study.user_attrs
        if not attrs:
            study.set_user_attr("xnn_metric", search.metric)
            study.set_user_attr("xnn_spec_sha256", _hash(ctx.raw))
            study.set_user_attr("xnn_spec_name", ctx.raw.get("name"))
        elif attrs.get("xnn_metric") != search.metric:
            raise OutputError(f"study {ctx.study_name!r} in {ctx.storage} optimises {attrs.get('xnn_metric')}; "
                              f"this spec's search.metric is {search.metric} (use another --study or --study-name)")
        elif attrs.get("xnn_spec_sha256") != _hash(ctx.raw):
            warnings.warn(f"study {ctx.study_name!r} was started from another spec (sha256 differs); its trials "
                          f"and this spec's go into one study", stacklevel=2)
    n_before = len(optuna.load_study(study_name=ctx.study_name, storage=storage).trials)
    seed = ctx.seed + 1_000_003 * worker + n_before  # a continued study does not replay its first samples
    return optuna.load_study(study_name=ctx.study_name, storage=storage, sampler=_sampler(search, seed),
                             pruner=_pruner(search, ctx.raw, dims))


def _hash(raw: dict) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()


def counts(study) -> tuple[int, int]:
    """(trials that count toward ``--trials``, trials running now). A trial counts when it finished,
    was pruned, or failed for a reason of its own (xnn_error); a trial whose process died does not."""
    optuna = _optuna()
    S = optuna.trial.TrialState
    done = running = 0
    for t in study.get_trials(deepcopy=False):
        if t.state in (S.COMPLETE, S.PRUNED) or (t.state == S.FAIL and "xnn_error" in t.user_attrs):
            done += 1
        elif t.state == S.RUNNING:
            running += 1
    return done, running


# ------------------------------------------------------------------------------ one trial
def suggest(trial, d: Dim):
    if d.kind == "uniform":
        return trial.suggest_float(d.path, d.lo, d.top(), step=d.step)
    if d.kind == "loguniform":
        return trial.suggest_float(d.path, d.lo, d.hi, log=True)
    if d.kind == "int":
        return trial.suggest_int(d.path, d.lo, d.top(), step=d.step or 1, log=d.log)
    if all(c is None or isinstance(c, (bool, int, float, str)) for c in d.choices):
        return trial.suggest_categorical(d.path, list(d.choices))
    # lists/mappings: Optuna's categorical values are scalars, so the choices go in as JSON text
    return json.loads(trial.suggest_categorical(d.path, [json.dumps(c, sort_keys=True) for c in d.choices]))


def trial_spec(ctx: Context, values: dict):
    """The validated spec of one trial (SpecError names the first problem)."""
    from ..spec.model import from_dict

    return from_dict(apply_values(ctx.raw, values, ctx.user))


_DATA: dict[str, Any] = {}


def _data_for(spec):
    """``xnn.data.load(spec)``, once per distinct data-determining part of the spec in this process."""
    from .. import data as data_mod

    r = spec.raw
    key = json.dumps([r["data"], r["input"], r["train"]["seed"], r["train"]["dtype"], r["train"]["loss"],
                      list(spec.output.out_shape)], sort_keys=True)
    if key not in _DATA:
        _DATA.clear()  # one dataset held at a time
        _DATA[key] = data_mod.load(spec)
    return _DATA[key]


def _explicit_schedule(spec, n_train: int):
    """A cosine schedule's default length is ``epochs x steps``: written out, so that the epoch-by-
    epoch fits (``train.epochs`` = 1, 2, ...) follow the schedule of the whole run."""
    s = spec.train.schedule
    if s.type == "cosine" and s.total_steps is None:
        spe = max(1, math.ceil(n_train / spec.train.batch_size))
        return spec.with_overrides({"train.schedule.total_steps": spec.train.epochs * spe})
    return spec


def train_epochs(spec, backend: str, data, run_dir: Path, on_epoch=None):
    """Train ``spec`` into ``run_dir`` one epoch per ``fit`` call on one engine.

    ``on_epoch(epoch, row) -> bool`` after each epoch; True stops (a pruned trial; not asked after
    the last epoch). Returns ``(TrainResult, epochs_run, stopped)`` with ``stopped`` None,
    ``"pruned"`` or ``"early_stopping"``."""
    from ..cli._common import quiet_frameworks

    quiet_frameworks()
    from ..train import fit, loop

    total = spec.train.epochs
    spec = _explicit_schedule(spec, len(data.train[0]))
    make = getattr(loop, "_local_engine", None)
    engine = make(spec, backend, loop._as_data(data), None) if make is not None else None
    try:
        for k in range(1, total + 1):
            sk = spec if k == total else spec.with_overrides({"train.epochs": k})
            res = fit(sk, backend=backend, data=data, out=run_dir, resume=k > 1, progress=False, engine=engine)
            row = res.history[-1] if res.history else {}
            stop = on_epoch(k, row) if on_epoch is not None else False
            if res.stopped_early:
                return res, k, "early_stopping"
            if stop and k < total:
                return res, k, "pruned"
        return res, total, None
    finally:
        if engine is not None:
            engine.close()


def _jsonable(v):
    try:
        json.dumps(v, allow_nan=False)
        return v
    except (TypeError, ValueError):
        return str(v)


def _write_trial(run_dir: Path, info: dict) -> None:
    from ..fileio import write_json

    run_dir.mkdir(parents=True, exist_ok=True)
    write_json(run_dir / "trial.json", {k: _jsonable(v) for k, v in info.items()})


def make_objective(ctx: Context):
    optuna = _optuna()
    search = _search_of(ctx)
    dims = dims_of(search)
    metric, direction = search.metric, direction_of(search)
    out = Path(ctx.out)

    def objective(trial):
        t0 = time.perf_counter()
        values = {d.path: suggest(trial, d) for d in dims}
        run_dir = out / f"trial_{trial.number:04d}"
        trial.set_user_attr("xnn_values", values)
        trial.set_user_attr("xnn_run", run_dir.name)
        info = {"study": ctx.study_name, "storage": ctx.storage, "trial": trial.number, "backend": ctx.backend,
                "metric": metric, "direction": direction, "values": values}
        seen: list[float] = []

        def on_epoch(k: int, row: dict) -> bool:
            v = row.get(metric)
            if v is None:
                raise TrainingError(f"search.metric: {metric} is not in the training history "
                                    f"(an epoch has {sorted(k for k in row if k not in ('epoch', 'step'))})")
            seen.append(float(v))
            trial.report(float(v), k)
            return trial.should_prune()

        try:
            spec = trial_spec(ctx, values)
            data = _data_for(spec)
            res, epochs_run, stopped = train_epochs(spec, ctx.backend, data, run_dir, on_epoch)
        except (SpecError, DataError, TrainingError, OutputError) as e:
            msg = (str(e).splitlines() or [type(e).__name__])[0]
            trial.set_user_attr("xnn_error", msg)
            trial.set_user_attr("xnn_seconds", round(time.perf_counter() - t0, 3))
            _write_trial(run_dir, {**info, "state": "failed", "error": msg, "intermediate": seen})
            raise TrialFailed(msg) from None
        hist = res.history
        es = spec.train.early_stopping
        pick = res.best_epoch if (es is not None and es.restore_best and res.best_epoch) else len(hist)
        value = float(hist[pick - 1][metric])
        secs = round(time.perf_counter() - t0, 3)
        trial.set_user_attr("xnn_epochs", epochs_run)
        trial.set_user_attr("xnn_seconds", secs)
        state = "pruned" if stopped == "pruned" else "complete"
        _write_trial(run_dir, {**info, "state": state, "value": value if state == "complete" else None,
                               "value_epoch": pick, "epochs_run": epochs_run, "epochs": spec.train.epochs,
                               "stopped": stopped, "intermediate": seen, "seconds": secs,
                               "test": res.test})
        if stopped == "pruned":
            raise optuna.TrialPruned(f"pruned after epoch {epochs_run}: {metric} {seen[-1]:.6g}")
        return value

    return objective


def _trial_line(ft, metric: str) -> str:
    st = ft.state.name.lower()
    vals = "  ".join(f"{k}={_short(v)}" for k, v in (ft.user_attrs.get("xnn_values") or ft.params).items())
    secs = ft.user_attrs.get("xnn_seconds")
    when = f"  {secs:.1f} s" if isinstance(secs, (int, float)) else ""
    if st == "complete":
        what = f"complete  {metric} {ft.value:.6g}  {ft.user_attrs.get('xnn_epochs', '?')} epochs"
    elif st == "pruned":
        last = ft.intermediate_values.get(max(ft.intermediate_values)) if ft.intermediate_values else None
        what = f"pruned after epoch {ft.user_attrs.get('xnn_epochs', '?')}" + (f"  {metric} {last:.6g}" if last is not None else "")
    else:
        what = f"{st}: {ft.user_attrs.get('xnn_error', 'stopped')}"
    return f"trial {ft.number}  {what}{when}  {vals}"


def _short(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return json.dumps(v) if not isinstance(v, str) else v


def optimize(ctx: Context, n_trials: int, worker: int = 0) -> None:
    """Run ``n_trials`` trials of the study in this process."""
    if n_trials <= 0:
        return
    study = open_study(ctx, worker=worker)
    metric = _search_of(ctx).metric

    def say(study, ft):
        if not ctx.quiet:
            print(_trial_line(ft, metric), file=sys.stderr, flush=True)

    study.optimize(make_objective(ctx), n_trials=n_trials, catch=(TrialFailed,), callbacks=[say],
                   gc_after_trial=True)


# ------------------------------------------------------------------------------ the study
def _user_dict(src, overrides) -> dict | None:
    """The spec as written (``type`` switches keep its fields), without ``search``."""
    from ..spec import Spec
    from ..spec.model import apply_overrides, read_spec_file

    if isinstance(src, Spec):
        return None
    d = read_spec_file(src) if isinstance(src, (str, Path)) else copy.deepcopy(src)
    if overrides:
        d = apply_overrides(d, overrides)
    d.pop("search", None)
    return d


def _prepare_out(out: Path, storage: str | None, study_name: str | None) -> tuple[str | None, str | None]:
    """Refuse an ``out`` that is not a tune folder of this study; returns what a tune.json recorded."""
    from ..train.run import folder_state

    state = folder_state(out)
    if state == "file":
        raise OutputError(f"{out}: --out exists and is not a folder")
    if state in ("missing", "empty"):
        return None, None
    tj = out / TUNE_FILE
    if not tj.is_file():
        raise OutputError(f"{out}: --out is not empty and is not an xnn tune folder (no {TUNE_FILE}); "
                          f"choose another --out")
    from ..limits import read_json_file

    rec = read_json_file(tj)
    rs, rn = rec.get("storage"), rec.get("study")
    if storage is not None and rs is not None and storage != rs:
        raise OutputError(f"{out}: holds the trials of study {rn!r} in {rs}; give that --study, or another --out")
    if study_name is not None and rn is not None and study_name != rn:
        raise OutputError(f"{out}: holds the trials of study {rn!r}; give --study-name {rn}, or another --out")
    return rs, rn


def tune(spec_src, backend: str = "torch", trials: int | None = None, jobs: int = 1, study: str | None = None,
         study_name: str | None = None, out: str | Path | None = None, overrides: list[str] | dict | None = None,
         quiet: bool = False, table: bool = True) -> TuneResult:
    """Run (or continue) the study of ``spec_src``'s ``search`` section; see the module docstring.

    ``trials``: the study's total (default ``search.trials``): a continued study runs only what is
    missing. ``jobs``: trials at once, each in its own process. ``quiet``: no per-trial lines;
    ``table``: print the trial table and what was written."""
    from ..spec import Spec, load_spec
    from ..spec.sections import SearchSpec

    if backend not in ("torch", "keras"):
        raise SpecError(f"--backend: must be torch or keras (received {backend!r})")
    if jobs < 1:
        raise SpecError(f"--jobs: must be >= 1 (received {jobs})")
    if trials is not None and trials < 1:
        raise SpecError(f"--trials: must be >= 1 (received {trials})")
    spec = spec_src if isinstance(spec_src, Spec) else load_spec(spec_src, overrides=overrides or None)
    if "search" not in spec.raw:
        raise SpecError("search: the spec has no search section, nothing to tune (docs/tuning.md)", source=spec.source)
    if spec.parallel.mode != "none":
        raise SpecError(f"parallel.mode: xnn tune trains each trial in one process (received {spec.parallel.mode!r}); "
                        f"use --jobs to run trials in parallel", source=spec.source)
    if not spec.data_given:
        raise SpecError("data: required by xnn tune (add a data section)", source=spec.source)
    search = SearchSpec.model_validate(spec.raw["search"])
    raw = {k: v for k, v in spec.raw.items() if k != "search"}
    out = Path(out) if out is not None else Path(f"tune-{spec.name}")
    url = storage_url(study, out) if study else None
    rec_storage, rec_name = _prepare_out(out, url, study_name)
    url = url or rec_storage or storage_url(None, out)
    name = study_name or rec_name or f"xnn-{spec.name}"
    seed = search.seed if search.seed is not None else spec.train.seed
    ctx = Context(raw=raw, user=_user_dict(spec_src, overrides), search=spec.raw["search"], backend=backend,
                  storage=url, study_name=name, out=str(out.resolve()), seed=int(seed), quiet=quiet)
    out.mkdir(parents=True, exist_ok=True)
    optuna = _optuna()
    st = open_study(ctx, create=True)
    _write_tune_json(out, ctx, search, None, [])  # marks the folder as this study's before any trial
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(st)  # trials of a process that died: FAIL, not counted
    target = trials or search.trials
    done, running = counts(st)
    todo = max(0, target - done - running)
    if not quiet:
        more = f", {running} running elsewhere" if running else ""
        print(f"study {name!r} in {url}: {done} trial(s) done{more}; running {todo} more on {backend}"
              + (f" in {min(jobs, todo)} processes" if jobs > 1 and todo > 1 else ""), file=sys.stderr)
    if todo and (jobs == 1 or todo == 1):
        optimize(ctx, todo)
    elif todo:
        _run_workers(ctx, todo, min(jobs, todo))
    return summarize(ctx, ran=todo, show=table)


def _run_workers(ctx: Context, n: int, jobs: int) -> None:
    """``jobs`` processes (``python -m xnn.tune.worker``) sharing ``n`` trials through the storage."""
    from ..parallel.lifetime import Lifeline

    share = [n // jobs + (1 if i < n % jobs else 0) for i in range(jobs)]
    fd, path = tempfile.mkstemp(prefix="xnn-tune-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(asdict(ctx), f)
    env = dict(os.environ)
    cores = os.cpu_count() or 1
    for k in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):  # share the cores unless told otherwise
        env.setdefault(k, str(max(1, cores // jobs)))
    procs = []
    try:
        with Lifeline() as life:
            env.update(life.env())
            for i, k in enumerate(share):
                procs.append(subprocess.Popen([sys.executable, "-m", "xnn.tune.worker", path, str(k), str(i)],
                                              env=env, pass_fds=life.pass_fds))
            try:
                codes = [p.wait() for p in procs]
            except KeyboardInterrupt:
                for p in procs:
                    if p.poll() is None:
                        p.send_signal(2)  # SIGINT: the trial checkpoints and stops
                for p in procs:
                    try:
                        p.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        p.kill()
                raise
    finally:
        os.unlink(path)
    bad = [(i, c) for i, c in enumerate(codes) if c != 0]
    if bad:
        raise TrainingError([f"tune worker {i} exited with code {c} (its messages are above)" for i, c in bad])


# ------------------------------------------------------------------------------ results
def trial_rows(study, dims: list[Dim]) -> list[dict]:
    rows = []
    for t in study.get_trials(deepcopy=False):
        inter = t.intermediate_values
        value = t.value if t.state.name == "COMPLETE" else (inter[max(inter)] if inter else None)
        rows.append({"trial": t.number, "state": t.state.name.lower(), "value": value,
                     "epochs": t.user_attrs.get("xnn_epochs"), "seconds": t.user_attrs.get("xnn_seconds"),
                     "values": t.user_attrs.get("xnn_values") or dict(t.params), "run": t.user_attrs.get("xnn_run"),
                     "error": t.user_attrs.get("xnn_error"),
                     "intermediate": {int(k): float(v) for k, v in sorted(inter.items())}})
    return rows


def format_table(rows: list[dict], dims: list[Dim], metric: str, best: int | None) -> str:
    head = ["trial", "state", metric, "epochs", "s", *[d.path for d in dims]]
    body = []
    for r in rows:
        v = r["value"]
        val = "" if v is None else f"{v:.6g}" + ("" if r["state"] == "complete" else " (last)")
        body.append([f"{r['trial']}{' *' if r['trial'] == best else ''}", r["state"], val,
                     "" if r["epochs"] is None else str(r["epochs"]),
                     "" if r["seconds"] is None else f"{r['seconds']:.1f}",
                     *[_short(r["values"][d.path]) if d.path in r["values"] else "" for d in dims]])
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(head, widths))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(b, widths)) for b in body]
    return "\n".join(x.rstrip() for x in lines)


def _write_tune_json(out: Path, ctx: Context, search, best: dict | None, rows: list[dict]) -> None:
    from ..fileio import write_json

    write_json(out / TUNE_FILE, {"study": ctx.study_name, "storage": ctx.storage, "spec": ctx.raw.get("name"),
                                 "spec_sha256": _hash(ctx.raw), "backend": ctx.backend, "metric": search.metric,
                                 "direction": direction_of(search), "best": best,
                                 "trials": [{k: _jsonable(v) for k, v in r.items()} for r in rows]})


def best_spec_yaml(ctx: Context, values: dict, header: str) -> str:
    spec = trial_spec(ctx, values)
    return "".join(f"# {ln}\n" for ln in header.splitlines()) + spec.to_yaml()


def summarize(ctx: Context, ran: int = 0, show: bool = True) -> TuneResult:
    """best.yaml, tune.json, history.png and importance.png of the study; prints the trial table."""
    from ..fileio import write_text

    optuna = _optuna()
    search = _search_of(ctx)
    dims = dims_of(search)
    study = optuna.load_study(study_name=ctx.study_name, storage=_storage(ctx.storage))
    rows = trial_rows(study, dims)
    out = Path(ctx.out)
    notes: list[str] = []
    complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
    best = best_yaml = None
    if complete:
        bt = study.best_trial
        best = {"trial": bt.number, "value": bt.value, "values": bt.user_attrs.get("xnn_values") or dict(bt.params),
                "run": str(out / (bt.user_attrs.get("xnn_run") or f"trial_{bt.number:04d}"))}
        best_yaml = out / "best.yaml"
        header = (f"best of study {ctx.study_name} ({search.metric} {bt.value:.6g}, trial {bt.number}, "
                  f"run {best['run']});\nsearch section removed, searched values filled in: "
                  + ", ".join(f"{k}={_short(v)}" for k, v in best["values"].items()))
        write_text(best_yaml, best_spec_yaml(ctx, best["values"], header))
    else:
        notes.append("no completed trial yet: no best.yaml")
    _write_tune_json(out, ctx, search, best, rows)
    plots = []
    try:
        plots += _plots(study, rows, dims, search, out, notes, best["trial"] if best else None)
    except Exception as e:  # noqa: BLE001 - a plot must never lose the study's results
        notes.append(f"plots: {type(e).__name__}: {(str(e).splitlines() or [''])[0][:160]}")
    res = TuneResult(ctx.study_name, ctx.storage, out, rows, best, best_yaml, plots, notes, ran)
    if show:
        print(format_table(rows, dims, search.metric, best["trial"] if best else None))
        if best:
            print(f"best: trial {best['trial']} {search.metric} {best['value']:.6g}; spec written to {best_yaml}")
        for n in notes:
            print(f"note: {n}")
        for p in plots:
            print(f"wrote {p}")
    return res


def _plots(study, rows: list[dict], dims: list[Dim], search, out: Path, notes: list[str], best: int | None) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..fileio import atomic_path

    written = []
    finished = [r for r in rows if r["value"] is not None]
    if finished:
        fig, (a1, a2) = plt.subplots(2, 1, figsize=(7, 7), constrained_layout=True)
        minimize = direction_of(search) == "minimize"
        comp = [r for r in rows if r["state"] == "complete"]
        a1.plot([r["trial"] for r in comp], [r["value"] for r in comp], "o", color="C0", label="complete")
        pr = [r for r in rows if r["state"] == "pruned" and r["value"] is not None]
        if pr:
            a1.plot([r["trial"] for r in pr], [r["value"] for r in pr], "x", color="C1", label="pruned (last epoch)")
        if comp:
            xs, ys, cur = [], [], None
            for r in comp:
                cur = r["value"] if cur is None else (min(cur, r["value"]) if minimize else max(cur, r["value"]))
                xs.append(r["trial"])
                ys.append(cur)
            a1.step(xs, ys, where="post", color="C3", label="best so far")
        from matplotlib.ticker import MaxNLocator

        for a in (a1, a2):
            a.xaxis.set_major_locator(MaxNLocator(integer=True))
        a1.set_xlabel("trial")
        a1.set_ylabel(search.metric)
        a1.set_title(f"study {study.study_name}: {search.metric} per trial")
        a1.legend(loc="best", fontsize="small")
        for r in rows:
            if not r["intermediate"]:
                continue
            ep, vs = zip(*sorted(r["intermediate"].items()))
            style = {"color": "C3", "lw": 2, "zorder": 3} if r["trial"] == best else \
                {"color": "C1", "lw": 1, "ls": "--", "alpha": 0.7} if r["state"] == "pruned" else {"color": "C0", "lw": 1, "alpha": 0.6}
            a2.plot(ep, vs, marker=".", **style)
        a2.set_xlabel("epoch")
        a2.set_ylabel(search.metric)
        a2.set_title("per-epoch values (dashed: pruned, red: best)")
        with atomic_path(out / "history.png") as tmp:
            fig.savefig(tmp, format="png", dpi=100)
        plt.close(fig)
        written.append(out / "history.png")
    n_complete = sum(r["state"] == "complete" for r in rows)
    if len(dims) < 2 or n_complete < 3:
        notes.append(f"importance: needs at least 2 searched paths and 3 completed trials "
                     f"(have {len(dims)} and {n_complete}); importance.png not written")
        return written
    import optuna

    try:
        ev = optuna.importance.FanovaImportanceEvaluator(seed=0)
        imp = optuna.importance.get_param_importances(study, evaluator=ev)
    except (ValueError, RuntimeError) as e:
        notes.append(f"importance: not computed ({(str(e).splitlines() or [''])[0][:160]})")
        return written
    names = list(imp)[::-1]
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(names) + 1.5), constrained_layout=True)
    ax.barh(names, [imp[n] for n in names], color="C0")
    ax.set_xlabel("importance (fANOVA, normalised)")
    ax.set_title(f"what moved {search.metric} ({n_complete} completed trials)")
    with atomic_path(out / "importance.png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
    written.append(out / "importance.png")
    return written
