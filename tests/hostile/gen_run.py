"""Hostile run folders and outputs: nothing a user has is overwritten without a flag, and a
damaged run folder is one clear line."""
from __future__ import annotations

import json
import os
from pathlib import Path

from tests.hostile.corpus import Case, Ctx


def _existing_run(ctx: Ctx) -> Path:
    return ctx.run


def _state_json(ctx: Ctx) -> Path:
    return sorted((ctx.run / "checkpoints").iterdir())[-1] / "state.json"


def _malformed_state(ctx: Ctx) -> Path:
    p = _state_json(ctx)
    s = json.loads(p.read_text())
    s["epoch"] = "three"
    p.write_text(json.dumps(s))
    return p


def _nan_state(ctx: Ctx) -> Path:
    p = _state_json(ctx)
    p.write_text(p.read_text().replace('"epoch": 1', '"epoch": NaN', 1))
    return p


def _deep_manifest(ctx: Ctx) -> Path:
    import numpy as np

    np.savez(ctx.dir / "x.npz", x=np.zeros((3, 4)))
    p = ctx.run / "manifest.json"
    p.write_text('{"a": ' + "[" * 50_000 + "]" * 50_000 + "}")
    return p


def _huge_int_manifest(ctx: Ctx) -> Path:
    p = ctx.run / "manifest.json"
    p.write_text('{"seed": ' + "9" * 5000 + "}")
    return p


def _edited_spec_for_resume(ctx: Ctx) -> Path:
    p = ctx.run / "spec.yaml"
    p.write_text(p.read_text().replace("units: 8", "units: 9"))
    return p


def _other_spec(ctx: Ctx) -> Path:
    p = ctx.dir / "other.yaml"
    p.write_text(ctx.spec.read_text().replace("lr: 0.01", "lr: 0.5"))
    return p


def _weights_fifo(ctx: Ctx) -> Path:
    w = ctx.run / "weights.safetensors"
    w.unlink()
    os.mkfifo(w)
    return w


def _weights_dev_zero(ctx: Ctx) -> Path:
    w = ctx.run / "weights.safetensors"
    w.unlink()
    w.symlink_to("/dev/zero")
    return w


def _weights_folder(ctx: Ctx) -> Path:
    w = ctx.run / "weights.safetensors"
    w.unlink()
    w.mkdir()
    return w


def _existing_onnx(ctx: Ctx) -> Path:
    p = ctx.dir / "model.onnx"
    p.write_bytes(b"the user's own file")
    return p


def _existing_pred(ctx: Ctx) -> Path:
    import numpy as np

    x = ctx.dir / "x.npz"
    np.savez(x, x=np.zeros((3, 4)))
    p = ctx.dir / "pred.npz"
    p.write_bytes(b"yesterday's predictions")
    return p


def _into_checkpoints(ctx: Ctx) -> Path:
    import numpy as np

    np.savez(ctx.dir / "x.npz", x=np.zeros((3, 4)))
    return ctx.run / "checkpoints" / "p.npz"


def _foreign_folder(ctx: Ctx) -> Path:
    d = ctx.dir / "mine"
    d.mkdir()
    (d / "notes.txt").write_text("keep me")
    return d


CASES = [
    Case("run_train_into_existing_run", _existing_run, lambda c, p: ["train", c.spec, "--out", p, "--quiet"],
         field="already holds a run", needs_run=True),
    Case("run_train_into_foreign_folder", _foreign_folder, lambda c, p: ["train", c.spec, "--out", p, "--quiet"],
         field="not empty"),
    Case("run_import_into_existing_run", _existing_run,
         lambda c, p: ["import", c.dir / "m.onnx", "--out", p], field="not empty", needs_run=True),
    Case("run_export_over_run_weights", lambda c: c.run / "weights.safetensors",
         lambda c, p: ["export", c.run, "--onnx", p, "--force"], field="run's own files", needs_run=True),
    Case("run_export_over_run_spec_mat", lambda c: c.run / "spec.yaml",
         lambda c, p: ["export", c.run, "--mat", p, "--force"], field="run's own files", needs_run=True),
    Case("run_export_over_checkpoint", lambda c: sorted((c.run / "checkpoints").iterdir())[-1] / "weights.safetensors",
         lambda c, p: ["export", c.run, "--onnx", p], field="run's own files", needs_run=True),
    Case("run_export_over_existing_file", _existing_onnx, lambda c, p: ["export", c.run, "--onnx", p],
         field="exists; use --force", needs_run=True),
    Case("run_export_over_spec_file", lambda c: c.spec, lambda c, p: ["export", p, "--onnx", p, "--force"],
         field="input file"),
    Case("run_predict_over_existing_file", _existing_pred,
         lambda c, p: ["predict", c.run, "--data", c.dir / "x.npz", "--out", p], field="exists; use --force",
         needs_run=True),
    Case("run_predict_into_run_checkpoints", _into_checkpoints,
         lambda c, p: ["predict", c.run, "--data", c.dir / "x.npz", "--out", p, "--force"],
         field="run's own files", needs_run=True),
    Case("run_export_weights_fifo", _weights_fifo, lambda c, p: ["export", c.run, "--onnx", c.dir / "m.onnx"],
         field="not a regular file", needs_run=True),
    Case("run_export_weights_dev_zero", _weights_dev_zero, lambda c, p: ["export", c.run, "--onnx", c.dir / "m.onnx"],
         field="symbolic link", needs_run=True),
    Case("run_export_weights_folder", _weights_folder, lambda c, p: ["export", c.run, "--mat", c.dir / "m.mat"],
         field="not a regular file", needs_run=True),
    Case("run_resume_other_spec", _other_spec, lambda c, p: ["train", p, "--out", c.run, "--resume", "--quiet"],
         names_file=False, field="train.optimizer.lr", needs_run=True),
    Case("run_resume_edited_spec_yaml", _edited_spec_for_resume,
         lambda c, p: ["train", c.run, "--out", c.run, "--resume", "--quiet"], names_file=False,
         field="edited", needs_run=True),
    Case("run_resume_malformed_state", _malformed_state,
         lambda c, p: ["train", c.spec, "--out", c.run, "--resume", "--epochs", "2", "--quiet"], names_file=False,
         field="state.json", needs_run=True),
    Case("run_resume_nan_state", _nan_state,
         lambda c, p: ["train", c.spec, "--out", c.run, "--resume", "--epochs", "2", "--quiet"], names_file=False,
         field="state.json", needs_run=True),
    Case("run_predict_deep_manifest", _deep_manifest,
         lambda c, p: ["predict", c.run, "--data", c.dir / "x.npz", "--out", c.dir / "p.npz"], field="nested",
         needs_run=True),
    Case("run_evaluate_huge_int_manifest", _huge_int_manifest, lambda c, p: ["evaluate", c.run], needs_run=True),
]
