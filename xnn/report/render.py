"""A report as blocks (paragraphs, tables, images, verdicts) rendered to one self-contained
HTML file (inline CSS, PNGs as base64 ``data:`` URIs, no script, nothing fetched) or to
Markdown (GitHub tables; the PNGs written beside it in ``<stem>_files/``)."""
from __future__ import annotations

import base64
import html
import re
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Block:
    kind: str  # p | table | img | verdict | note
    text: str = ""
    head: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    png: bytes = b""
    name: str = ""  # image file stem (Markdown)
    status: str = ""
    align: list[str] = field(default_factory=list)  # per column: l | r


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)
    level: int = 2
    row: bool = False  # images side by side

    def p(self, text: str) -> None:
        self.blocks.append(Block("p", text))

    def note(self, text: str) -> None:
        self.blocks.append(Block("note", text))

    def table(self, head: list[str], rows: list[list], align: list[str] | None = None) -> None:
        self.blocks.append(Block("table", head=list(head), rows=[[str(c) for c in r] for r in rows],
                                 align=align or ["l"] * len(head)))

    def img(self, png: bytes, name: str, alt: str) -> None:
        self.blocks.append(Block("img", text=alt, png=png, name=name))

    def verdict(self, what: str, status: str, detail: str) -> None:
        self.blocks.append(Block("verdict", text=f"{what}: {detail}", status=status, name=what))


@dataclass
class Report:
    title: str
    subtitle: str
    sections: list[Section] = field(default_factory=list)

    def section(self, title: str, level: int = 2, row: bool = False) -> Section:
        s = Section(title, level=level, row=row)
        self.sections.append(s)
        return s


GOOD = ("good fit", "healthy")
BAD = ("overfitting", "exploding", "vanishing")

CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:0;background:#f6f7f9;color:#1d232b}
main{max-width:1180px;margin:0 auto;padding:20px 28px 60px}
h1{font-size:26px;margin:6px 0 2px}h2{font-size:20px;margin:34px 0 10px;padding-bottom:4px;border-bottom:2px solid #d8dde4}
h3{font-size:16px;margin:22px 0 8px}.sub{color:#5b6673;margin:0 0 10px}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:8px 0 14px;box-shadow:0 1px 2px rgba(0,0,0,.06)}
th,td{padding:4px 10px;border:1px solid #e1e5ea;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}
tr:nth-child(even) td{background:#fafbfc}
.imgs{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:6px 0;background:#fff;padding:6px;box-shadow:0 1px 2px rgba(0,0,0,.08)}
figure img{display:block;max-width:100%;height:auto}figcaption{font-size:12px;color:#5b6673;text-align:center}
.verdict{margin:6px 0;padding:7px 12px;border-left:5px solid #8a94a0;background:#fff;font-size:14px}
.verdict b{display:inline-block;min-width:86px}
.v-good{border-color:#2e9d57}.v-bad{border-color:#d23b3b}.v-warn{border-color:#e59a1d}
.badge{display:inline-block;padding:1px 8px;border-radius:9px;font-size:12px;color:#fff;background:#8a94a0}
.v-good .badge{background:#2e9d57}.v-bad .badge{background:#d23b3b}.v-warn .badge{background:#e59a1d}
.note{color:#5b6673;font-style:italic;font-size:13px}p{font-size:14px;line-height:1.45}
"""


def _cls(status: str) -> str:
    if status in GOOD:
        return "v-good"
    if status in BAD:
        return "v-bad"
    return "v-warn" if status.startswith("underfitting") else ""


def to_html(rep: Report) -> str:
    e = html.escape
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{e(rep.title)}</title><style>{CSS}</style></head><body><main>",
           f"<h1>{e(rep.title)}</h1>", f'<p class="sub">{e(rep.subtitle)}</p>']
    for s in rep.sections:
        out.append(f"<h{s.level}>{e(s.title)}</h{s.level}>")
        imgs: list[str] = []

        def flush():
            if imgs:
                out.append('<div class="imgs">' + "".join(imgs) + "</div>")
                imgs.clear()

        for b in s.blocks:
            if b.kind == "img":
                src = "data:image/png;base64," + base64.b64encode(b.png).decode("ascii")
                imgs.append(f'<figure><img src="{src}" alt="{e(b.text)}"><figcaption>{e(b.text)}</figcaption></figure>')
                if not s.row:
                    flush()
                continue
            flush()
            if b.kind == "p":
                out.append(f"<p>{e(b.text)}</p>")
            elif b.kind == "note":
                out.append(f'<p class="note">{e(b.text)}</p>')
            elif b.kind == "verdict":
                what, _, detail = b.text.partition(": ")
                out.append(f'<div class="verdict {_cls(b.status)}"><b>{e(what)}</b> <span class="badge">'
                           f"{e(b.status)}</span> {e(detail)}</div>")
            elif b.kind == "table":
                al = b.align
                head = "".join(f'<th class="{al[i] if i < len(al) else "l"}">{e(h)}</th>' for i, h in enumerate(b.head))
                body = "".join("<tr>" + "".join(f'<td class="{al[i] if i < len(al) else "l"}">{e(c)}</td>'
                                                for i, c in enumerate(r)) + "</tr>" for r in b.rows)
                out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        flush()
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"


def _md_cell(c: str) -> str:
    return c.replace("|", "\\|").replace("\n", " ")


def to_markdown(rep: Report, files_dir: Path) -> tuple[str, dict[str, bytes]]:
    """Markdown text and the PNGs it links (``{file name: bytes}``, relative to ``files_dir``)."""
    out = [f"# {rep.title}", "", f"_{rep.subtitle}_", ""]
    files: dict[str, bytes] = {}
    for s in rep.sections:
        out += ["#" * s.level + " " + s.title, ""]
        for b in s.blocks:
            if b.kind == "img":
                name = _unique(re.sub(r"[^A-Za-z0-9_.-]+", "_", b.name).strip("_") or "figure", files) + ".png"
                files[name] = b.png
                out += [f"![{b.text}]({files_dir.name}/{name})", ""]
            elif b.kind == "p":
                out += [b.text, ""]
            elif b.kind == "note":
                out += [f"_{b.text}_", ""]
            elif b.kind == "verdict":
                what, _, detail = b.text.partition(": ")
                out += [f"- **{what}: {b.status}** — {detail}", ""]
            elif b.kind == "table":
                al = b.align
                out.append("| " + " | ".join(_md_cell(h) for h in b.head) + " |")
                out.append("|" + "|".join("---:" if (al[i] if i < len(al) else "l") == "r" else "---"
                                          for i in range(len(b.head))) + "|")
                out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in b.rows]
                out.append("")
    return "\n".join(out) + "\n", files


def _unique(stem: str, files: dict) -> str:
    name, i = stem, 2
    while f"{name}.png" in files:
        name, i = f"{stem}_{i}", i + 1
    return name
