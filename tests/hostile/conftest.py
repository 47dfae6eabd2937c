import shutil
from pathlib import Path

import pytest

from tests.hostile.corpus import TINY_SPEC, Ctx


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    """A small trained run folder (torch, 1 epoch on iris), made once per session."""
    from tests.hostile.harness import run_cli

    d = tmp_path_factory.mktemp("hostile_base")
    (d / "tiny.yaml").write_text(TINY_SPEC)
    o = run_cli("train", d / "tiny.yaml", "--out", d / "run", "--quiet")
    assert o.code == 0, o.err
    return d / "run"


@pytest.fixture
def ctx_factory(tmp_path, request):
    """``make(needs_run)`` -> a Ctx in a fresh folder (a copy of the trained run when asked)."""

    def make(needs_run: bool) -> Ctx:
        d = tmp_path / "case"
        d.mkdir()
        (d / "tiny.yaml").write_text(TINY_SPEC)
        run = d / "run"
        if needs_run:
            shutil.copytree(request.getfixturevalue("trained_run"), run)
        return Ctx(d, run, d / "tiny.yaml")

    return make
