"""Hostile specs: YAML/JSON that asks for unbounded work or memory (alias bombs, deep nesting,
huge files and integers), values pydantic's lax mode would let through (``units: true``,
``lr: .inf``), tags that build non-plain objects, models that cannot fit in memory, and a data
section that cannot load. Each ends in one ``error: <file>[:line:col]: <field>: ...`` line, exit 2.

The text builders are shared with bench/bench_validate.py.
"""
from __future__ import annotations

import os
from pathlib import Path

from tests.hostile.corpus import TINY_SPEC, Case, Ctx

_DATA_LINE = "data: {source: iris, x: standardize, split: {val: 0.2, test: 0.2}}"


# ------------------------------------------------------------------------------ builders
def alias_bomb_text(levels: int = 8, fan: int = 9) -> str:
    """TINY_SPEC whose data.options hold ``fan`` aliases per level: ``fan ** levels`` values once
    expanded (9 ** 8 = 43 million) from about 500 bytes."""
    lines = ["a0: &a0 [" + ", ".join(["x"] * fan) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * fan) + "]" for i in range(1, levels)]
    opts = "\n".join("    " + ln for ln in lines)
    return TINY_SPEC.replace(_DATA_LINE, "data:\n  source: iris\n  options:\n" + opts)


def layers_text(n: int, width: int = 8) -> str:
    """A valid spec of ``n`` Dense layers in a chain (``n = 20000`` is about 0.8 MB)."""
    head = TINY_SPEC.split("model:")[0]
    tail = "train:" + TINY_SPEC.split("train:")[1]
    body = [f"  - {{type: Dense, name: d{i}, units: {width}}}" for i in range(n - 1)]
    body.append("  - {type: Dense, name: logits, units: 3}")
    return head + "model:\n" + "\n".join(body) + "\n" + tail


def big_list_text(n_bytes: int) -> str:
    """TINY_SPEC with one flow list of ``n_bytes / 2`` small integers in data.options."""
    items = ",".join(["1"] * (n_bytes // 2))
    return TINY_SPEC.replace("source: iris,", f"source: iris, options: {{junk: [{items}]}},")


def deep_block_text(depth: int) -> str:
    """Block-style mappings nested ``depth`` levels under ``name``."""
    return TINY_SPEC.replace("name: tiny\n", "name:\n" + "".join(" " * (i + 1) + f"k{i}:\n" for i in range(depth)) + " " * (depth + 1) + "v\n")


def _sub(old: str, new: str) -> str:
    assert old in TINY_SPEC, old
    return TINY_SPEC.replace(old, new, 1)


# ------------------------------------------------------------------------------ cases
def _write(name: str, text_fn):
    def make(ctx: Ctx) -> Path:
        p = ctx.dir / name
        data = text_fn()
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
        return p

    return make


def _validate(ctx: Ctx, p: Path) -> list:
    return ["validate", p]


def _info(ctx: Ctx, p: Path) -> list:
    return ["info", p]


def _train(ctx: Ctx, p: Path) -> list:
    return ["train", p, "--out", ctx.dir / "r", "--quiet"]


def _spec(name: str, text_fn, field: str | None = None, argv=_validate) -> Case:
    return Case(name, _write(f"{name}.yaml", text_fn), argv, field=field)


def _sparse(ctx: Ctx) -> Path:
    p = ctx.dir / "huge.yaml"  # 17 MiB of holes: its size is refused before anything is read
    with open(p, "wb") as f:
        f.truncate(17 * 2**20)
    return p


def _fifo(ctx: Ctx) -> Path:
    p = ctx.dir / "fifo.yaml"  # reading it would block forever
    os.mkfifo(p)
    return p


def _dev_zero(ctx: Ctx) -> Path:
    p = ctx.dir / "zero.yaml"  # endless bytes
    p.symlink_to("/dev/zero")
    return p


def _set_binary(ctx: Ctx, p: Path) -> list:
    return ["validate", ctx.spec, "--set", "name=!!binary aGk="]


CASES: list[Case] = [
    # -------- work and memory a spec can ask for
    _spec("spec_alias_bomb", alias_bomb_text, field="data.options"),
    _spec("spec_alias_bomb_info", alias_bomb_text, field="once aliases are expanded", argv=_info),
    _spec("spec_alias_bomb_train", alias_bomb_text, field="once aliases are expanded", argv=_train),
    _spec("spec_alias_count", lambda: _sub("name: tiny\n", "name: tiny\nx: &s 1\ny: [" + ", ".join(["*s"] * 1001) + "]\n"),
          field="aliases"),
    _spec("spec_deep_block", lambda: deep_block_text(150), field="nested deeper than"),
    _spec("spec_deep_flow", lambda: _sub("name: tiny", "name: " + "[" * 500 + "]" * 500), field="nested deeper than"),
    _spec("spec_deep_flow_libyaml", lambda: _sub("name: tiny", "name: " + "[" * 100_000 + "]" * 100_000), field="nesting"),
    Case("spec_deep_json", _write("deep.json", lambda: '{"xnn": 1, "name": ' + "[" * 100_000 + "]" * 100_000 + "}"),
         _validate, field="nested deeper than"),
    Case("spec_too_big", _sparse, _validate, field="XNN_LIMIT_MAX_SPEC_BYTES"),
    Case("spec_fifo", _fifo, _validate, field="not a regular file"),
    Case("spec_dev_zero", _dev_zero, _validate, field="not a regular file"),
    _spec("spec_many_nodes", lambda: big_list_text(5_000_000), field="XNN_LIMIT_MAX_SPEC_NODES"),
    # -------- numbers
    _spec("spec_int_5000_digits", lambda: _sub("units: 8", "units: " + "9" * 5000), field="model[0].units"),
    _spec("spec_units_1e400", lambda: _sub("units: 8", "units: 1e400"), field="model[0].units"),
    _spec("spec_units_1_0e400", lambda: _sub("units: 8", "units: 1.0e+400"), field="model[0].units"),
    _spec("spec_units_tera", lambda: _sub("units: 8", "units: 1000000000000"), field="parameters"),
    _spec("spec_units_tera_train", lambda: _sub("units: 8", "units: 1000000000000"), field="parameters", argv=_train),
    _spec("spec_units_true", lambda: _sub("units: 8", "units: true"), field="model[0].units"),
    _spec("spec_lr_inf", lambda: _sub("lr: 0.01", "lr: .inf"), field="train.optimizer.lr"),
    _spec("spec_lr_nan", lambda: _sub("lr: 0.01", "lr: .nan"), field="train.optimizer.lr"),
    _spec("spec_lr_1e39", lambda: _sub("lr: 0.01", "lr: 1e39"), field="train.optimizer.lr"),
    _spec("spec_lr_1e39_train", lambda: _sub("lr: 0.01", "lr: 1e39"), field="train.optimizer.lr", argv=_train),
    _spec("spec_lr_true", lambda: _sub("lr: 0.01", "lr: true"), field="train.optimizer.lr"),
    # -------- non-plain YAML and bad text
    _spec("spec_tag_binary", lambda: _sub("name: tiny", "name: !!binary aGk="), field="!!binary"),
    _spec("spec_tag_set", lambda: _sub("name: tiny", "name: !!set {a, b}"), field="!!set"),
    _spec("spec_tag_python", lambda: _sub("name: tiny", "name: !!python/object/apply:os.system [id]"), field="!!python"),
    _spec("spec_tag_custom", lambda: _sub("units: 8", "units: !big 8"), field="model[0].units"),
    _spec("spec_invalid_utf8", lambda: _sub("name: tiny", "name: ti\udcffny").encode("utf-8", "surrogateescape"),
          field="UTF-8"),
    _spec("spec_duplicate_key", lambda: _sub("units: 8}", "units: 8, units: 9}"), field="duplicate key"),
    _spec("spec_syntax_line_col", lambda: _sub("units: 3}", "units: 3"), field="spec_syntax_line_col.yaml:8:"),
    _spec("spec_two_documents", lambda: TINY_SPEC + "---\nname: other\n", field="more than one YAML document"),
    Case("spec_set_binary", lambda ctx: ctx.spec, _set_binary, field="--set name", names_file=False),
    # -------- the data section is checked at validate
    _spec("spec_unknown_source", lambda: _sub("source: iris", "source: mnist"), field="data.source"),
    _spec("spec_n_samples_negative", lambda: _sub("source: iris", "source: iris, options: {n_samples: -5}"),
          field="data.options.n_samples"),
    _spec("spec_unknown_option", lambda: _sub("source: iris", "source: iris, options: {n_sample: 5}"),
          field="did you mean 'n_samples'"),
]
