"""Every documented command runs: the code blocks of README.md, docs/*.md and the examples'
comment headers (tests/docs/blocks.py says what is extracted and how blocks are marked).

One test per block, id ``<file>:<line>``. The blocks of one document run in order in one
temporary working directory (a file an earlier block writes is there for a later one) holding
symlinks ``examples``, ``matlab``, ``bench``, ``tools`` to the repository's folders; running a
single block (``-k 'docs/onnx.md:42'``) first runs the document's earlier blocks.

- shell / console blocks: one ``bash`` process per block (``cd`` and variables carry from one
  command to the next within the block); each command must exit 0, or, in a block marked
  ``expect-fail``, non-zero.
- python blocks: one ``python -c`` process per block (a block is what a reader pastes; blocks do
  not share variables).
- matlab / octave blocks: ``octave-cli --no-gui --quiet`` on the block after
  ``warning('off', 'Octave:shadowed-function'); addpath('<repo>/matlab');``. Code that needs
  MATLAB's Deep Learning Toolbox must be marked skip (checked before running).
- yaml blocks that are whole specs: validated in-process (``xnn.spec.from_dict``).

The processes get the repository's Python environment first on PATH, KERAS_BACKEND=tensorflow,
no GPU, MPLBACKEND=Agg, and no stdin.
"""
from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from .blocks import REPO, Block, all_blocks, fill_placeholders, shell_commands

LINKS = ("examples", "matlab", "bench", "tools")
MATLAB_ONLY = re.compile(r"\b(dlnetwork|dlarray|importNetworkFromONNX|toDlnetwork|fromDlnetwork|"
                         r"importOnnx|trainnet|trainNetwork|layerGraph)\b")
TAIL = 25          # lines of output shown on a failure
JOBS = int(os.environ.get("XNN_DOCS_JOBS", "2"))   # documents run at the same time
WAIT = 3600        # a test may wait for other documents' blocks; each block has its own timeout


def _is_spec(d) -> bool:
    return isinstance(d, dict) and ("xnn" in d or ("input" in d and "model" in d))


def _checked_yaml(b: Block) -> bool:
    """A yaml block is a test when it is a whole spec (or does not parse); fragments are text."""
    try:
        return _is_spec(yaml.safe_load(b.code))
    except yaml.YAMLError:
        return True


BLOCKS = [b for b in all_blocks() if b.runnable or b.kind == "problem" or b.problems
          or (b.kind == "yaml" and _checked_yaml(b))]


def matlab_code(code: str) -> str:
    """``code`` without its % comments (a % inside a quoted string stays)."""
    out = []
    for line in code.splitlines():
        quote = None
        for i, ch in enumerate(line):
            if quote:
                if ch == quote:
                    quote = None
            elif ch == '"' or (ch == "'" and (i == 0 or not (line[i - 1].isalnum() or line[i - 1] in ")]}.'_"))):
                quote = ch                   # ' after a name or bracket is a transpose, not a quote
            elif ch == "%":
                line = line[:i]
                break
        out.append(line)
    return "\n".join(out)


def _params():
    out = []
    for b in BLOCKS:
        marks = []
        if b.runnable:
            marks.append(pytest.mark.slow)
            marks.append(pytest.mark.timeout(WAIT))
        out.append(pytest.param(b, id=b.id, marks=marks))
    return out


# ------------------------------------------------------------------------------ environment
def _env() -> dict:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.setdefault("KERAS_BACKEND", "tensorflow")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env["CUDA_VISIBLE_DEVICES"] = env.get("CUDA_VISIBLE_DEVICES", "")
    env["MPLBACKEND"] = "Agg"
    env.pop("XNN_FAULT", None)
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


@dataclass
class Outcome:
    ok: bool
    message: str = ""
    log: list = field(default_factory=list)      # timing lines, printed by the test


@dataclass
class DocRun:
    """One document's working directory and its blocks' outcomes (line -> Outcome)."""
    doc: str
    root: Path
    done: dict = field(default_factory=dict)

    @property
    def workdir(self) -> Path:
        return self.root / "work"

    @property
    def scripts(self) -> Path:
        return self.root / "scripts"

    def setup(self) -> None:
        if self.workdir.exists():
            return
        self.workdir.mkdir(parents=True)
        self.scripts.mkdir()
        for name in LINKS:
            if (REPO / name).exists():
                (self.workdir / name).symlink_to(REPO / name, target_is_directory=True)

    def run_blocks(self, blocks: list[Block], futures: dict, stop: threading.Event) -> None:
        """Run ``blocks`` (this document's, in order), resolving each block's future."""
        self.setup()
        for b in blocks:
            if stop.is_set():                              # the session is ending (Ctrl-C, -x)
                futures[b.id].set_result(Outcome(False, f"{b.id}: not run (the session stopped)"))
                continue
            try:
                out = execute(b, self)
            except Exception as e:  # noqa: BLE001  (the runner itself broke: that block fails)
                out = Outcome(False, f"{b.id}: the docs test could not run the block: {e!r}")
            self.done[b.line] = out
            if b.id in futures:
                futures[b.id].set_result(out)

    def failed_before(self, block: Block) -> list[str]:
        return [f"{self.doc}:{n}" for n, o in sorted(self.done.items()) if n < block.line and not o.ok]


_HEAVY = re.compile(r"\bxnn (train|compare|tune|optimize|parity|evaluate|demo)\b|\.fit\(")


def _to_run(b: Block) -> bool:
    return b.runnable and not b.skip and not b.problems and not (
        b.kind == "octave" and (MATLAB_ONLY.search(matlab_code(b.code)) or shutil.which("octave-cli") is None))


class Scheduler:
    """Runs the selected blocks' documents, JOBS documents at a time (documents are independent;
    the blocks of one run in order). A selected block brings its document's earlier blocks."""

    def __init__(self, root: Path, selected: list[Block]):
        self.runs: dict[str, DocRun] = {}
        self.futures: dict[str, Future] = {}
        docs: dict[str, list[Block]] = {}
        for b in selected:
            if _to_run(b):
                docs.setdefault(b.doc, []).append(b)
        self.stop = threading.Event()
        self.pool = ThreadPoolExecutor(max_workers=JOBS, thread_name_prefix="docs")
        def cost(doc):                 # a guess, so that the longest documents start first
            total = 0.0
            for b in BLOCKS:
                if b.doc == doc and _to_run(b):
                    cmds = shell_commands(b) if b.kind in ("shell", "console") else [b.code]
                    total += {"python": 3, "octave": 0.3}.get(b.kind, 0) + sum(
                        1 + 3 * bool(_HEAVY.search(c)) + 3 * ("parallel.mode" in c) for c in cmds)
            return total

        for doc, chosen in sorted(docs.items(), key=lambda kv: -cost(kv[0])):
            last = max(b.line for b in chosen)
            blocks = [b for b in BLOCKS if b.doc == doc and b.line <= last and _to_run(b)]
            for b in blocks:
                self.futures[b.id] = Future()
            run = self.runs[doc] = DocRun(doc, root / re.sub(r"[^\w.-]", "_", doc))
            self.pool.submit(run.run_blocks, blocks, self.futures, self.stop)

    def result(self, block: Block) -> tuple[Outcome, DocRun]:
        return self.futures[block.id].result(), self.runs[block.doc]


@pytest.fixture(scope="session")
def scheduler(request, tmp_path_factory):
    selected = [it.callspec.params["block"] for it in request.session.items
                if getattr(it, "originalname", "") == "test_block" and hasattr(it, "callspec")]
    sched = Scheduler(tmp_path_factory.mktemp("docs"), selected)
    yield sched
    sched.stop.set()
    sched.pool.shutdown(wait=True, cancel_futures=True)


# -------------------------------------------------------------------------------- execution
def _tail(text: str, n: int = TAIL) -> str:
    lines = [ln for ln in text.splitlines() if ln.strip()]
    return "\n".join(lines[-n:])


def _wait(p: subprocess.Popen, timeout: float):
    """(returncode | None on timeout, CPU seconds of the process and what it waited for)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid == p.pid:
            p.returncode = os.waitstatus_to_exitcode(status)
            return p.returncode, ru.ru_utime + ru.ru_stime
        if time.monotonic() > deadline:
            return None, None
        time.sleep(0.05)


def _run(argv: list[str], cwd: Path, timeout: float, logs: Path):
    """(returncode | None on timeout, stdout, stderr, timing line). Output goes to files, not
    pipes: a process left behind by a killed command cannot keep the test waiting for EOF."""
    t0 = time.monotonic()
    out_f, err_f = logs.with_suffix(".out"), logs.with_suffix(".err")
    with open(out_f, "w") as fo, open(err_f, "w") as fe:
        p = subprocess.Popen(argv, cwd=cwd, env=_env(), text=True, start_new_session=True,
                             stdin=subprocess.DEVNULL, stdout=fo, stderr=fe)
        rc, cpu = _wait(p, timeout)
        if rc is None:
            for sig, grace in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
                try:
                    os.killpg(p.pid, sig)
                except ProcessLookupError:
                    break
                if _wait(p, grace)[0] is not None:
                    break
            rc = None
    secs = time.monotonic() - t0
    timing = f"{secs:.1f} s wall" + (f", {cpu:.1f} s CPU" if cpu is not None else "")
    return rc, out_f.read_text(errors="replace"), err_f.read_text(errors="replace"), timing


_CMD = "@@xnn-docs-cmd {i}@@"
_RC = re.compile(r"@@xnn-docs-rc (\d+) (\d+) ([\d.]+)@@")


def _shell_script(cmds: list[str], expect_fail: bool) -> str:
    parts = []
    for i, c in enumerate(cmds):
        mark = _CMD.format(i=i)
        parts.append(f"printf '\\n{mark}\\n'; printf '\\n{mark}\\n' >&2; __t0=$(( ${{EPOCHREALTIME/./}} / 1000 ))")
        parts.append(c)
        parts.append(f"__rc=$?; printf '\\n@@xnn-docs-rc {i} %d %s@@\\n' \"$__rc\" \"$(( ${{EPOCHREALTIME/./}} / 1000 - __t0 ))\" >&2")
        if not expect_fail:
            parts.append('[ "$__rc" -eq 0 ] || exit "$__rc"')
    return "\n".join(parts) + "\nexit 0\n"


def _section(text: str, i: int) -> str:
    """The output of command ``i`` (between its marker and the next)."""
    start = text.find(_CMD.format(i=i))
    if start < 0:
        return ""
    start += len(_CMD.format(i=i))
    end = text.find("@@xnn-docs-cmd ", start)
    return _RC.sub("", text[start:end if end >= 0 else len(text)])


def execute(block: Block, run: DocRun) -> Outcome:
    code = fill_placeholders(block.code)
    if block.kind in ("shell", "console"):
        return _execute_shell(block, run, code)
    if block.kind == "python":
        rc, out, err, timing = _run([sys.executable, "-c", code], run.workdir, block.timeout,
                                    run.scripts / f"docs_block_{block.line}_py")
        return _judge(block, "python", code, rc, out, err, timing)
    if block.kind == "octave":
        script = run.scripts / f"docs_block_{block.line}.m"
        script.write_text("warning('off', 'Octave:shadowed-function');\n"
                          f"addpath('{REPO / 'matlab'}');\n" + code)
        rc, out, err, timing = _run(["octave-cli", "--no-gui", "--quiet", "--no-window-system", str(script)],
                                    run.workdir, block.timeout, script)
        return _judge(block, "octave", code, rc, out, err, timing)
    return Outcome(True)


def _judge(block, what, code, rc, out, err, timing) -> Outcome:
    log = [f"{block.id}: {timing}"]
    if rc is None:
        return Outcome(False, f"{block.id}: the {what} block did not finish within {block.timeout:.0f} s "
                              "(mark it 'docs-test: timeout N' or make it smaller)\n"
                              f"--- code ---\n{code}--- last output ---\n{_tail(out)}\n{_tail(err)}", log)
    if (rc == 0) == (not block.expect_fail):
        return Outcome(True, log=log)
    want = "a non-zero exit (marked expect-fail)" if block.expect_fail else "exit 0"
    return Outcome(False, f"{block.id}: the {what} block exited {rc} ({want} expected), {timing}\n"
                          f"--- code ---\n{code}--- stdout (last lines) ---\n{_tail(out)}\n"
                          f"--- stderr (last lines) ---\n{_tail(err)}", log)


def _execute_shell(block: Block, run: DocRun, code: str) -> Outcome:
    cmds = shell_commands(dataclasses.replace(block, code=code))
    if not cmds:
        return Outcome(True)
    script = run.scripts / f"docs_block_{block.line}.sh"
    script.write_text(_shell_script(cmds, block.expect_fail))
    rc, out, err, timing = _run(["bash", "--noprofile", "--norc", str(script)], run.workdir, block.timeout, script)
    found = _RC.findall(err)
    rcs = {int(i): int(r) for i, r, _ms in found}
    log = [f"{block.id}: {timing}"] + [f"  command {int(i) + 1}: {int(ms) / 1000:.1f} s, exit {r}: "
                                       f"{cmds[int(i)].splitlines()[0][:100]}" for i, r, ms in found]
    if rc is None:
        i = max(rcs, default=-1) + 1
        return Outcome(False, f"{block.id}: did not finish within {block.timeout:.0f} s "
                              f"(mark the block 'docs-test: timeout N' or make it smaller)\n"
                              f"--- command ---\n{cmds[min(i, len(cmds) - 1)]}\n--- last output ---\n"
                              f"{_tail(_section(out, i))}\n{_tail(_section(err, i))}", log)
    bad = [i for i, r in sorted(rcs.items()) if (r == 0) == block.expect_fail]
    if block.expect_fail and len(rcs) < len(cmds):
        bad = bad or [len(rcs)]
    if not bad and rc == 0:
        return Outcome(True, log=log)
    if not bad:                                # bash itself failed (syntax error...)
        return Outcome(False, f"{block.id}: bash exited {rc}\n--- stderr ---\n{_tail(err)}", log)
    i = bad[0]
    want = "non-zero (the block is marked expect-fail)" if block.expect_fail else "0"
    return Outcome(False, f"{block.id}: command {i + 1} of {len(cmds)} exited {rcs.get(i)} (expected {want})\n"
                          f"--- command ---\n$ {cmds[i]}\n"
                          f"--- stdout (last lines) ---\n{_tail(_section(out, i))}\n"
                          f"--- stderr (last lines) ---\n{_tail(_section(err, i))}", log)


# ------------------------------------------------------------------------------------- yaml
def _leaf_diffs(shown, real, path=""):
    """Scalars the abridged ``shown`` mapping gives that differ from ``real`` (lists skipped)."""
    if isinstance(shown, dict) and isinstance(real, dict):
        for k, v in shown.items():
            if k in real:
                yield from _leaf_diffs(v, real[k], f"{path}.{k}" if path else str(k))
    elif isinstance(shown, (dict, list)) or isinstance(real, (dict, list)):
        return
    elif shown != real:
        yield f"{path}: the block shows {shown!r}, the file has {real!r}"


def check_yaml(block: Block) -> None:
    try:
        d = yaml.safe_load(block.code)
    except yaml.YAMLError as e:
        pytest.fail(f"{block.id}: the yaml block does not parse: {e}", pytrace=False)
    from xnn.errors import SpecError
    from xnn.spec import from_dict

    try:
        from_dict(d, source=block.id)
    except SpecError as e:
        pytest.fail(f"{block.id}: the spec in the yaml block is invalid:\n" + "\n".join(e.messages), pytrace=False)
    first = block.code.lstrip().splitlines()[0]
    if m := re.match(r"^#\s*(examples/\S+\.ya?ml)", first):
        real = yaml.safe_load((REPO / m.group(1)).read_text())
        diffs = list(_leaf_diffs(d, real))
        if diffs:
            pytest.fail(f"{block.id} says it shows {m.group(1)}, but:\n" + "\n".join(diffs), pytrace=False)


# ------------------------------------------------------------------------------------- test
@pytest.mark.parametrize("block", _params())
def test_block(block: Block, request):
    if block.problems:
        pytest.fail(f"{block.id}: " + "; ".join(block.problems), pytrace=False)
    if block.kind == "yaml":
        check_yaml(block)
        return
    if block.skip:
        pytest.skip(f"{block.id} marked skip: {block.skip}")
    if block.kind == "octave":
        if found := sorted(set(MATLAB_ONLY.findall(matlab_code(block.code)))):
            pytest.fail(f"{block.id}: MATLAB-only code (Deep Learning Toolbox: {', '.join(found)}) cannot run in "
                        "Octave: mark it <!-- docs-test: skip (reason: needs MATLAB's Deep Learning Toolbox) -->",
                        pytrace=False)
        if shutil.which("octave-cli") is None:
            pytest.skip("octave-cli is not installed")
    out, run = request.getfixturevalue("scheduler").result(block)
    print("\n".join(out.log))                # shown with -rP
    if not out.ok:
        earlier = run.failed_before(block)
        note = f"\n(note: earlier blocks of {block.doc} failed too: {', '.join(earlier)})" if earlier else ""
        pytest.fail(out.message + note, pytrace=False)


_SAME = re.compile(r"the same commands run in (?P<doc>\S+?)'s")


def test_skipped_duplicates_do_run_elsewhere():
    """A block skipped because 'the same commands run in F's ...' block: each command is in F."""
    blocks = all_blocks()
    for b in blocks:
        if b.skip and (m := _SAME.search(b.skip)):
            there = {c for o in blocks if o.doc == m.group("doc") and o.runnable and not o.skip
                     for c in shell_commands(o)}
            missing = [c for c in shell_commands(b) if c not in there]
            assert not missing, f"{b.id} is skipped as run in {m.group('doc')}, which lacks: {missing}"
