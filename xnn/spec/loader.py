"""Hardened reading of spec text (YAML and JSON) from untrusted files.

Every resource a spec can ask for is bounded *while* it is read, never after: the file size
before reading, and nesting depth, node count (aliases counted as fully expanded) and alias
uses while the YAML event stream is turned into objects. The YAML builder is iterative (no
recursion to exhaust) and reads libyaml's event stream directly: PyYAML's own composer calls a
Python resolver per scalar and is several times slower. Only plain values are built: explicit
tags other than the core str/int/float/bool/null/seq/map are refused (no ``!!binary``, ``!!set``,
``!!python/...``), and timestamps stay strings (a spec holds no dates).

Errors are :class:`~xnn.errors.SpecError` lines ``<file>:<line>:<col>: <field>: <problem>``.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import SpecError
from ..limits import limit

_CORE = "tag:yaml.org,2002:"
_SCALAR_TAGS = {None, "!", _CORE + "str", _CORE + "int", _CORE + "float", _CORE + "bool", _CORE + "null"}
_CONTAINER_TAGS = {None, "!", _CORE + "map", _CORE + "seq"}

# YAML 1.1 implicit scalars, as PyYAML's SafeLoader resolves them (so specs read as before)
_BOOL = {"yes": True, "true": True, "on": True, "no": False, "false": False, "off": False}
_BOOL_RE = re.compile(r"yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF")
_INT_RE = re.compile(r"[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+"
                     r"|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+")
_FLOAT_RE = re.compile(r"[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
                       r"|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")
_NULL = {"", "~", "null", "Null", "NULL"}
_NUMERIC_START = set("-+.0123456789")


class _Bad(Exception):
    """A problem at the current event; turned into a SpecError with file, line, column, field."""


# ------------------------------------------------------------------------------ files
def read_spec_bytes(path: Path) -> bytes:
    """The bytes of a spec file, its size checked before reading (and while reading, for files
    that grow or lie about their size)."""
    max_bytes = limit("MAX_SPEC_BYTES")
    try:
        if not path.is_file():
            raise SpecError(f"{path}: not a regular file")
        if path.stat().st_size > max_bytes:
            raise SpecError(f"{path}: spec larger than {max_bytes} bytes (XNN_LIMIT_MAX_SPEC_BYTES)")
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as e:
        raise SpecError(f"{path}: cannot be read ({e.strerror or e})") from None
    if len(data) > max_bytes:
        raise SpecError(f"{path}: spec larger than {max_bytes} bytes (XNN_LIMIT_MAX_SPEC_BYTES)")
    return data


def decode_utf8(data: bytes, source: str) -> str:
    """Strict UTF-8 (a replacement character would silently change names and values)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        col = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
        raise SpecError(f"{source}:{line}:{col}: not UTF-8 text (byte 0x{data[e.start]:02x})") from None


def loads_spec_text(text: str | bytes, source: str, fmt: str = "yaml") -> Any:
    """Parse spec text (``fmt`` ``yaml`` or ``json``) within the spec limits."""
    if isinstance(text, bytes):
        text = decode_utf8(text, source)
    if len(text) > limit("MAX_SPEC_BYTES"):
        raise SpecError(f"{source}: spec larger than {limit('MAX_SPEC_BYTES')} bytes (XNN_LIMIT_MAX_SPEC_BYTES)")
    return _loads_json(text, source) if fmt == "json" else _YamlBuilder(text, source).build()


# ------------------------------------------------------------------------------ JSON
def _loads_json(text: str, source: str) -> Any:
    def constant(c: str):
        raise ValueError(f"{c} is not a number a spec may hold")

    try:
        obj = json.loads(text, parse_constant=constant, object_pairs_hook=_json_object)
    except RecursionError:
        raise SpecError(f"{source}: nested deeper than {limit('MAX_NESTING')} levels (XNN_LIMIT_MAX_NESTING)") from None
    except json.JSONDecodeError as e:
        raise SpecError(f"{source}:{e.lineno}:{e.colno}: not valid JSON: {e.msg}") from None
    except ValueError as e:  # NaN/Infinity, integers past Python's digit limit, duplicate keys
        raise SpecError(f"{source}: not valid JSON: {str(e).splitlines()[0][:200]}") from None
    check_tree(obj, source)
    return obj


def _json_object(pairs: list) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))
        raise ValueError(f"duplicate key {dup!r}")
    return d


def check_tree(obj: Any, source: str | None = None) -> None:
    """Refuse a spec object (from JSON or a caller's dict) nested deeper than MAX_NESTING or
    with more than MAX_SPEC_NODES nodes, counting shared objects each time they appear.
    Iterative, and it stops at the first excess, so its work is bounded by the limits."""
    max_depth, max_nodes = limit("MAX_NESTING"), limit("MAX_SPEC_NODES")
    prefix = f"{source}: " if source else ""
    count = 0
    stack = [(obj, 1)]
    while stack:
        o, d = stack.pop()
        count += 1
        if count > max_nodes:
            raise SpecError(f"{prefix}more than {max_nodes} values (XNN_LIMIT_MAX_SPEC_NODES)")
        if isinstance(o, (dict, list, tuple)):
            if d > max_depth:
                raise SpecError(f"{prefix}nested deeper than {max_depth} levels (XNN_LIMIT_MAX_NESTING)")
            children = o.values() if isinstance(o, dict) else o
            stack.extend((c, d + 1) for c in children)


# ------------------------------------------------------------------------------ YAML
def _parser(text: str):
    """libyaml's event parser when PyYAML has it, else PyYAML's pure-Python one."""
    if getattr(yaml, "__with_libyaml__", False):
        from yaml.cyaml import CParser

        return CParser(text)

    class _PyParser(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser):
        def __init__(self, stream):
            yaml.reader.Reader.__init__(self, stream)
            yaml.scanner.Scanner.__init__(self)
            yaml.parser.Parser.__init__(self)

    return _PyParser(text)


class _Frame:
    """An open mapping or sequence while its events arrive."""

    __slots__ = ("kind", "items", "key", "has_key", "merge", "merges", "anchor", "size", "height", "mark")

    def __init__(self, kind: str, anchor: str | None, mark):
        self.kind = kind  # "map" | "seq"
        self.items: list = []  # seq: values; map: (key, value) pairs
        self.key: Any = None
        self.has_key = False  # map: a key is waiting for its value
        self.merge = False  # map: that key is the merge key `<<`
        self.merges: list[dict] = []  # map: `<<` mappings
        self.anchor = anchor
        self.size = 1  # nodes below and including this one, aliases expanded
        self.height = 1  # nesting below and including this one, aliases expanded
        self.mark = mark


class _YamlBuilder:
    """Plain Python objects from one YAML document, bounded while they are built."""

    def __init__(self, text: str, source: str):
        self.text, self.source = text, source
        self.max_nodes, self.max_aliases, self.max_depth = (
            limit("MAX_SPEC_NODES"), limit("MAX_YAML_ALIASES"), limit("MAX_NESTING"))
        self.nodes = 0  # total nodes, aliases expanded (tests read these counters)
        self.aliases = 0
        self.events = 0  # YAML events read: the work done, bounded by the limits
        self.anchors: dict[str, tuple[Any, int, int]] = {}  # name -> (value, size, height)
        self.stack: list[_Frame] = []
        self.mark = None

    def build(self) -> Any:
        parser = _parser(self.text)
        try:
            return self._run(parser)
        except _Bad as e:
            raise SpecError(self._where(str(e))) from None
        except yaml.MarkedYAMLError as e:
            m = e.problem_mark or e.context_mark
            what = e.problem or e.context or "syntax error"
            at = f":{m.line + 1}:{m.column + 1}" if m is not None else ""
            raise SpecError(f"{self.source}{at}: not valid YAML: {what}") from None
        except yaml.YAMLError as e:  # reader errors (control characters) carry no mark
            raise SpecError(f"{self.source}: not valid YAML: {str(e).splitlines()[0][:200]}") from None

    # -- the event loop ---------------------------------------------------------------------
    def _run(self, parser) -> Any:
        ev = yaml.events
        scalar_event, implicit = ev.ScalarEvent, self._implicit
        result: Any = None
        documents = 0
        while True:
            e = parser.get_event()
            self.events += 1
            self.mark = e.start_mark
            t = type(e)
            if t is scalar_event:  # the hot path: most events are plain scalars
                self._count(1)
                plain = e.implicit[0] and e.tag is None
                value = implicit(e.value) if plain else self._scalar(e)
                self._merge_flag = plain and value == "<<"
                self._add(value, 1, 0, e.anchor)
                self._merge_flag = False
            elif t is ev.MappingStartEvent or t is ev.SequenceStartEvent:
                self._open(e, "map" if t is ev.MappingStartEvent else "seq")
            elif t is ev.MappingEndEvent or t is ev.SequenceEndEvent:
                f = self.stack.pop()
                value = self._close_map(f) if f.kind == "map" else f.items
                self._add(value, f.size, f.height, f.anchor)
            elif t is ev.AliasEvent:
                self._alias(e.anchor)
            elif t is ev.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _Bad("more than one YAML document (a spec is one mapping)")
            elif t is ev.DocumentEndEvent:
                result = self._done
            elif t is ev.StreamEndEvent:
                return result

    def _open(self, e, kind: str) -> None:
        if e.tag not in _CONTAINER_TAGS:
            raise _Bad(f"tag {_short_tag(e.tag)} is not allowed (a spec holds plain values only)")
        if len(self.stack) + 1 > self.max_depth:
            raise _Bad(f"nested deeper than {self.max_depth} levels (XNN_LIMIT_MAX_NESTING)")
        self._count(1)
        self.stack.append(_Frame(kind, e.anchor, e.start_mark))

    def _count(self, n: int, why: str = "") -> None:
        self.nodes += n
        if self.nodes > self.max_nodes:
            raise _Bad(f"more than {self.max_nodes} values{why} (XNN_LIMIT_MAX_SPEC_NODES)")

    def _add(self, value: Any, size: int, height: int, anchor: str | None) -> None:
        """Count a finished node (``size`` nodes once expanded) and place it in its parent."""
        if anchor is not None:
            self.anchors[anchor] = (value, size, height)
        if not self.stack:
            self._done = value
            return
        f = self.stack[-1]
        f.size += size
        if height >= f.height:
            f.height = height + 1
        if f.kind == "seq":
            f.items.append(value)
        elif not f.has_key:
            if isinstance(value, (dict, list)):
                raise _Bad("a mapping key must be a plain value, not a mapping or list")
            f.key, f.has_key, f.merge = value, True, self._merge_flag
        else:
            f.has_key = False
            if f.merge:
                f.merges.extend(self._merge_sources(value))
            else:
                f.items.append((f.key, value))

    def _alias(self, name: str) -> None:
        self.aliases += 1
        if self.aliases > self.max_aliases:
            raise _Bad(f"more than {self.max_aliases} aliases (XNN_LIMIT_MAX_YAML_ALIASES)")
        if name not in self.anchors:
            raise _Bad(f"alias *{name} refers to no complete anchor (undefined, or a node that contains itself)")
        value, size, height = self.anchors[name]
        # what downstream code sees is the expansion: count it and its depth before going on
        self._count(size, " once aliases are expanded")
        if len(self.stack) + height > self.max_depth:
            raise _Bad(f"nested deeper than {self.max_depth} levels once aliases are expanded (XNN_LIMIT_MAX_NESTING)")
        self._add(value, size, height, None)

    # -- mappings ---------------------------------------------------------------------------
    def _merge_sources(self, value: Any) -> list[dict]:
        if isinstance(value, dict):
            return [value]
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            return list(value)
        raise _Bad("a merge key (<<) takes a mapping or a list of mappings")

    def _close_map(self, f: _Frame) -> dict:
        d: dict = {}
        for m in reversed(f.merges):  # earlier merged mappings win, explicit keys win over all
            d.update(m)
        explicit: set = set()
        for k, v in f.items:
            if k in explicit:
                self.mark = f.mark
                raise _Bad(f"duplicate key {k!r} in one mapping")
            explicit.add(k)
            d[k] = v
        return d

    # -- scalars ----------------------------------------------------------------------------
    def _scalar(self, e) -> Any:
        tag, value = e.tag, e.value
        if e.implicit[0] and tag is None:
            return self._implicit(value)
        if tag not in _SCALAR_TAGS:
            raise _Bad(f"tag {_short_tag(tag)} is not allowed (a spec holds plain values only)")
        if tag in (None, "!", _CORE + "str"):
            return value
        if tag == _CORE + "null":
            return None
        if tag == _CORE + "bool":
            if value.lower() not in _BOOL:
                raise _Bad(f"!!bool {value!r} is not a boolean")
            return _BOOL[value.lower()]
        if tag == _CORE + "int":
            if not _INT_RE.fullmatch(value):
                raise _Bad(f"!!int {value[:40]!r} is not an integer")
            return self._int(value)
        if not (_FLOAT_RE.fullmatch(value) or _INT_RE.fullmatch(value)):
            raise _Bad(f"!!float {value[:40]!r} is not a number")
        return self._float(value)

    def _implicit(self, value: str) -> Any:
        if value in _NULL:
            return None
        c = value[0]
        if c in _NUMERIC_START:
            if _INT_RE.fullmatch(value):
                return self._int(value)
            if _FLOAT_RE.fullmatch(value):
                return self._float(value)
            return value
        if c in "yYnNtTfFoO" and _BOOL_RE.fullmatch(value):
            return _BOOL[value.lower()]
        return value

    def _int(self, value: str) -> int:
        s = value.replace("_", "")
        sign = -1 if s[0] == "-" else 1
        s = s.lstrip("+-")
        try:
            if s.startswith("0b"):
                return sign * int(s[2:], 2)
            if s.startswith("0x"):
                return sign * int(s[2:], 16)
            if s != "0" and s.startswith("0") and ":" not in s:
                return sign * int(s, 8)
            if ":" in s:
                n = 0
                for part in s.split(":"):
                    n = n * 60 + int(part)
                return sign * n
            return sign * int(s)
        except ValueError:  # past Python's integer-string digit limit
            raise _Bad(f"integer with {len(s)} digits is too long (received {s[:20]}...)") from None

    def _float(self, value: str) -> float:
        s = value.replace("_", "").lower()
        sign = -1.0 if s[0] == "-" else 1.0
        s = s.lstrip("+-")
        if s == ".inf":
            return sign * float("inf")
        if s == ".nan":
            return float("nan")
        if ":" in s:
            n = 0.0
            for part in s.split(":"):
                n = n * 60 + float(part)
            return sign * n
        return sign * float(s)

    # -- errors -----------------------------------------------------------------------------
    def _where(self, problem: str) -> str:
        at = f":{self.mark.line + 1}:{self.mark.column + 1}" if self.mark is not None else ""
        path = self._path()
        return f"{self.source}{at}: " + (f"{path}: " if path else "") + problem

    def _path(self) -> str:
        out = ""
        for f in self.stack:
            if f.kind == "seq":
                out += f"[{len(f.items)}]"
            elif f.has_key:
                out += ("." if out else "") + str(f.key)[:60]
        return out

    _merge_flag = False
    _done: Any = None


def _short_tag(tag: str | None) -> str:
    return "!!" + tag[len(_CORE):] if tag and tag.startswith(_CORE) else str(tag)
