"""The model zoo: ready specs in ``examples/zoo/<name>.yaml`` (shipped in the wheel through the
``xnn/examples`` link). Each file opens with comment lines: the first is the one-line summary,
the next ones say what was scaled down from the published network. No framework imports."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ZOO_DIR = Path(__file__).resolve().parent / "examples" / "zoo"


@dataclass(frozen=True)
class ZooEntry:
    name: str
    path: Path
    summary: str
    notes: str


def _header(text: str) -> list[str]:
    out = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        out.append(line.lstrip("#").strip())
    return out


def entries() -> list[ZooEntry]:
    """Every zoo model, sorted by name."""
    found = []
    for p in sorted(ZOO_DIR.glob("*.yaml")):
        head = _header(p.read_text(encoding="utf-8"))
        found.append(ZooEntry(p.stem, p, head[0] if head else "", " ".join(h for h in head[1:] if h)))
    return found


def get(name: str) -> ZooEntry:
    """The entry called ``name``; ``KeyError`` with the known names (and a close match) otherwise."""
    import difflib

    by_name = {e.name: e for e in entries()}
    if name in by_name:
        return by_name[name]
    low = {k.lower().replace("-", "_"): k for k in by_name}
    key = name.lower().replace("-", "_")
    if key in low:
        return by_name[low[key]]
    close = difflib.get_close_matches(key, list(low), n=1)
    hint = f"; did you mean {low[close[0]]!r}?" if close else ""
    raise KeyError(f"no zoo model {name!r}{hint} (known: {', '.join(sorted(by_name))})")
