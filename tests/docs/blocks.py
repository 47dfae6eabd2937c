"""Code blocks of the documentation, as the docs test runs them.

Sources (``sources()``): ``README.md``, ``docs/*.md`` (every file, so a new page is covered the
day it lands), the leading ``#`` comment lines of ``examples/**/*.yaml`` and the help text (the
leading ``%`` lines) of ``examples/*.m``.

Markdown: every fenced block (```` ``` ```` or ``~~~``, indented fences in lists too). The first
word of the info string picks the kind:

=================================  =========  ================================================
info string                        kind       what runs
=================================  =========  ================================================
``bash``, ``sh``, ``shell``        shell      every command (``\\`` continuations joined,
                                              comment lines dropped, a quoted string may span
                                              lines)
``console``, ``shell-session``     console    only the ``$ `` lines (and their continuations,
                                              ``> `` prefixes dropped); other lines are output
``python``, ``py``                 python     the block, one ``python -c`` process per block
``matlab``, ``octave``             octave     ``octave-cli`` with ``addpath('<repo>/matlab')``
``yaml``, ``yml``                  yaml       validated when it is a whole spec (``xnn:``, or
                                              ``input:`` and ``model:``); a first line
                                              ``# examples/F.yaml`` also checks every value it
                                              shows against that file
anything else, or none             text       nothing
=================================  =========  ================================================

Markers: HTML comments on the lines just before the fence (blank lines between are allowed),
several directives separated by ``;``::

    <!-- docs-test: skip (reason: needs a GPU) -->
    <!-- docs-test: expect-fail -->       every command of the block must exit non-zero
    <!-- docs-test: timeout 300 -->       seconds for the whole block (default DEFAULT_TIMEOUT)

A ``skip`` without a reason, an unknown directive, or a marker followed by no code block is a
problem: the docs test fails on it (``Block.kind == "problem"``).

Example headers have no fences; there a code line is

- ``$ command`` (a shell command; ``\\`` continues it on the next comment line),
- ``>> statement`` (.m help text: MATLAB/Octave code),
- or, indented by 3 or more spaces after the comment character, a line that starts with a
  command word (``xnn``, ``python``, ``python3``, ``octave-cli``, ``bash``) -> shell, or (in .m
  files) a MATLAB statement (``name(...)``, ``x = ...``, ``[a, b] = ...``) -> octave. A note set
  off by two or more spaces in parentheses after a shell command (``xnn export ...   (in a
  shell)``) is not part of it.

Consecutive code lines of one kind form one block. A comment line ``docs-test: ...`` (``#`` or
``%``) before them is their marker.

In every runnable block the placeholders ``<xnn checkout>``, ``<repo>`` and ``/path/to/xnn``
stand for the repository root.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_TIMEOUT = 300.0

LANG_KIND = {
    "bash": "shell", "sh": "shell", "shell": "shell", "zsh": "shell",
    "console": "console", "shell-session": "console",
    "python": "python", "py": "python", "python3": "python",
    "matlab": "octave", "octave": "octave",
    "yaml": "yaml", "yml": "yaml",
}
RUNNABLE = {"shell", "console", "python", "octave"}
PLACEHOLDERS = ("<xnn checkout>", "<repo>", "/path/to/xnn")
SHELL_WORDS = ("xnn", "python", "python3", "octave-cli", "bash", "torchrun")

_MARKER = re.compile(r"^\s*<!--\s*docs-test:\s*(?P<body>.*?)\s*-->\s*$")
_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*?)\s*$")
_SKIP = re.compile(r"^skip\s*(?:\((?:\s*reason\s*:)?\s*(?P<reason>.*?)\s*\))?$", re.IGNORECASE | re.DOTALL)
_TIMEOUT = re.compile(r"^timeout\s+(?P<s>\d+(?:\.\d+)?)\s*s?$", re.IGNORECASE)
_MATLAB_STMT = re.compile(r"^(\[[^\]]*\]\s*=(?!=)|[A-Za-z_]\w*(\.\w+)*\s*=(?!=)|[A-Za-z_]\w*(\.\w+)*\s*\()")
_NOTE = re.compile(r"\s{2,}\([^()]*\)\s*$")


@dataclass(frozen=True)
class Block:
    doc: str                      # repo-relative path of the source file
    line: int                     # 1-based line of the opening fence / first code line
    lang: str                     # info string's first word, lower case ("" when none)
    kind: str                     # shell | console | python | octave | yaml | text | problem
    code: str
    skip: str | None = None       # the marked reason
    expect_fail: bool = False
    timeout: float = DEFAULT_TIMEOUT
    problems: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"

    @property
    def runnable(self) -> bool:
        return self.kind in RUNNABLE


# ------------------------------------------------------------------------------------ markers
def _split_directives(body: str) -> list[str]:
    """Split on ``;`` outside parentheses (a reason may hold ``;``)."""
    parts, depth, cur = [], 0, []
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        if ch == ";" and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return parts


def parse_marker(body: str) -> tuple[dict, list[str]]:
    """``skip (reason: ...); expect-fail; timeout N`` -> ({skip, expect_fail, timeout}, problems)."""
    out: dict = {}
    problems: list[str] = []
    for part in [p.strip() for p in _split_directives(body) if p.strip()]:
        if m := _SKIP.match(part):
            reason = (m.group("reason") or "").strip()
            if not reason:
                problems.append(f"'docs-test: {part}': a skip needs a reason: skip (reason: ...)")
            out["skip"] = reason or "(no reason given)"
        elif part.lower().replace("_", "-") == "expect-fail":
            out["expect_fail"] = True
        elif m := _TIMEOUT.match(part):
            out["timeout"] = float(m.group("s"))
        else:
            problems.append(f"unknown docs-test directive {part!r} "
                            "(known: skip (reason: ...), expect-fail, timeout N)")
    return out, problems


def _make(doc, line, lang, code, marker_opts, problems) -> Block:
    kind = LANG_KIND.get(lang, "text")
    return Block(doc=doc, line=line, lang=lang, kind=kind, code=code,
                 skip=marker_opts.get("skip"), expect_fail=marker_opts.get("expect_fail", False),
                 timeout=marker_opts.get("timeout", DEFAULT_TIMEOUT), problems=tuple(problems))


# ----------------------------------------------------------------------------------- markdown
def markdown_blocks(text: str, doc: str) -> list[Block]:
    lines = text.splitlines()
    blocks: list[Block] = []
    pending: list[tuple[int, str]] = []      # (line, marker body) waiting for their block
    i = 0
    while i < len(lines):
        ln = lines[i]
        if m := _MARKER.match(ln):
            pending.append((i + 1, m.group("body")))
            i += 1
            continue
        f = _FENCE.match(ln)
        if not f:
            if ln.strip() and pending:       # prose between a marker and a block
                blocks += [_orphan(doc, n, body) for n, body in pending]
                pending = []
            i += 1
            continue
        indent, fence, info = f.group("indent"), f.group("fence"), f.group("info")
        lang = info.split()[0].lower().strip("{}.") if info else ""
        body: list[str] = []
        j = i + 1
        closed = False
        while j < len(lines):
            c = lines[j]
            if c.strip().startswith(fence[0] * len(fence)) and set(c.strip()) == {fence[0]}:
                closed = True
                break
            body.append(c[len(indent):] if c.startswith(indent) else c.lstrip())
            j += 1
        opts: dict = {}
        problems: list[str] = []
        for _n, mbody in pending:
            o, p = parse_marker(mbody)
            opts.update(o)
            problems += p
        pending = []
        if not closed:
            problems.append(f"the code block opened at line {i + 1} is never closed")
        blocks.append(_make(doc, i + 1, lang, "\n".join(body) + "\n", opts, problems))
        i = j + 1
    blocks += [_orphan(doc, n, body) for n, body in pending]
    return blocks


def _orphan(doc: str, line: int, body: str) -> Block:
    return Block(doc=doc, line=line, lang="", kind="problem", code="",
                 problems=(f"marker 'docs-test: {body}' is followed by no code block",))


# ---------------------------------------------------------------------------- example headers
def header_blocks(text: str, doc: str, comment: str) -> list[Block]:
    """Code shown in the leading comment lines of an example (``#`` for YAML, ``%`` for .m)."""
    matlab = comment == "%"
    blocks: list[Block] = []
    cur: list[str] = []
    cur_kind = cur_line = None
    opts: dict = {}
    problems: list[str] = []
    cont = False

    def flush():
        nonlocal cur, cur_kind, cur_line, opts, problems
        if cur:
            lang = "bash" if cur_kind == "shell" else "matlab"
            blocks.append(_make(doc, cur_line, lang, "\n".join(cur) + "\n", opts, problems))
            opts, problems = {}, []
        elif opts or problems:
            blocks.append(Block(doc=doc, line=cur_line or 1, lang="", kind="problem", code="",
                                problems=tuple(problems) or ("a docs-test marker is followed by no code",)))
            opts, problems = {}, []
        cur, cur_kind, cur_line = [], None, None

    for n, raw in enumerate(text.splitlines(), 1):
        s = raw.lstrip()
        if not s.startswith(comment):
            if s or matlab:                  # a YAML header may have blank lines; .m help ends
                break
            continue
        t = s.lstrip(comment)
        body = t.strip()
        if m := re.match(r"^docs-test:\s*(.*)$", body):
            flush()
            o, p = parse_marker(m.group(1))
            opts.update(o)
            problems += p
            cur_line = n + 1
            continue
        if cont and cur:                     # continuation of a `\`-ended shell line
            cur.append(body.removeprefix("> "))
            cont = body.endswith("\\")
            continue
        kind, code = None, None
        indent = len(t) - len(t.lstrip(" "))
        if body.startswith("$ "):
            kind, code = "shell", body[2:]
        elif matlab and body.startswith(">> "):
            kind, code = "octave", body[3:]
        elif indent >= 3 and body.split(" ", 1)[0] in SHELL_WORDS:
            kind, code = "shell", _NOTE.sub("", body)
        elif matlab and indent >= 3 and _MATLAB_STMT.match(body):
            kind, code = "octave", body
        if kind is None:
            if cur:
                flush()
            continue
        if cur and kind != cur_kind:
            flush()
        if not cur:
            cur_kind = kind
            cur_line = n
        cur.append(code)
        cont = kind == "shell" and code.endswith("\\")
    flush()
    return blocks


# ------------------------------------------------------------------------------------ sources
def sources(repo: Path = REPO) -> list[Path]:
    docs = [repo / "README.md", *sorted((repo / "docs").glob("*.md"))]
    ex = sorted(p for p in (repo / "examples").rglob("*") if p.suffix in (".yaml", ".yml", ".m"))
    return [p for p in docs + ex if p.is_file()]


def file_blocks(path: Path, repo: Path = REPO) -> list[Block]:
    doc = path.relative_to(repo).as_posix()
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        return markdown_blocks(text, doc)
    return header_blocks(text, doc, "%" if path.suffix == ".m" else "#")


def all_blocks(repo: Path = REPO) -> list[Block]:
    return [b for p in sources(repo) for b in file_blocks(p, repo)]


# ------------------------------------------------------------------------ shell command split
def _complete(cmd: str) -> bool:
    if cmd.endswith("\\"):
        return False
    try:
        shlex.split(cmd, comments=True)
    except ValueError:                       # an open quote: the command goes on
        return False
    return True


def shell_commands(block: Block) -> list[str]:
    """The commands a shell/console block runs, one string each (continuations kept)."""
    out: list[str] = []
    cur: list[str] = []
    console = block.kind == "console"
    for ln in block.code.splitlines():
        if cur:
            cur.append(ln[2:] if console and ln.startswith("> ") else ln)
        else:
            s = ln.strip()
            if console:
                if not (s.startswith("$ ") or s == "$"):
                    continue
                s = s[1:].strip()
            if not s or s.startswith("#"):
                continue
            cur = [s]
        joined = "\n".join(cur)
        if _complete(joined):
            out.append(joined)
            cur = []
    if cur:
        out.append("\n".join(cur))           # unterminated: let bash report it
    return out


def fill_placeholders(code: str, repo: Path = REPO) -> str:
    for p in PLACEHOLDERS:
        code = code.replace(p, str(repo))
    return code
