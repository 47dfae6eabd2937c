"""Every case of the hostile corpus through the real CLI: exit 2, one error line naming the file
(and field), no traceback, peak memory under 1 GB, nothing changed but the asked-for outputs."""
from __future__ import annotations

import pytest

from tests.hostile.corpus import all_cases
from tests.hostile.harness import assert_refused, assert_unchanged, run_cli, snapshot

CASES = all_cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case, ctx_factory):
    ctx = ctx_factory(case.needs_run)
    path = case.make(ctx)
    before = snapshot(ctx.dir)
    o = run_cli(*case.argv(ctx, path), cwd=ctx.dir)
    assert_refused(o, names=path if case.names_file else None, code=case.code, field=case.field)
    assert_unchanged(before, snapshot(ctx.dir), allowed=tuple(str(p) for p in case.outputs(ctx)))
