"""Safe YAML loading that remembers where everything came from.

PyYAML's C parser composes the node graph (fast, and aliases stay shared there); we then build
plain Python values ourselves so that we decide, not the library:
- duplicate keys are errors (PyYAML keeps the last one silently);
- only the core tags are accepted (no ``!!python/object``, no custom tags);
- aliases are measured before anything is built: a billion-laughs document (or an alias inside
  its own anchor) fails at once, pointing at the anchor that expands too far;
- plain scalars are read with YAML 1.2 core rules (``on`` stays a string, ``010`` is ten), and
  every scalar whose YAML 1.1 reading differs is recorded, so a rule can ask the user to quote
  it where the difference would change meaning (env values, params, names);
- every value's key and value span is kept by JSON path for diagnostics.
"""

from __future__ import annotations

import codecs
import math
import os
import re
import stat
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from engine.diagnostics import Diagnostic, code
from engine.source import Source, Span

try:
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing: slower, same behaviour
    _BaseLoader = yaml.SafeLoader

Path = tuple[str | int, ...]

#: The bounds of a spec, refused before the work they would cost: a 10,000-step spec is well
#: inside both, and anything past them is a mistake or an attack on the validator.
MAX_BYTES = 8 * 1024 * 1024
MAX_NODES = 1_000_000
MIN_ALIAS_BUDGET = 10_000

YAML_SYNTAX = code("FS001", "YAML syntax error", """
The file is not well-formed YAML. The message gives the position where the parser gave up;
the real mistake is often on the line above (a missing colon, a bad indent, an unclosed quote).
""")
DUPLICATE_KEY = code("FS002", "duplicate key", """
A mapping has the same key twice. Most YAML tools keep the last one silently, which hides
mistakes; flowspec refuses it. Remove or rename one of them.
""")
FORBIDDEN_TAG = code("FS003", "tag not allowed", """
Only plain YAML values are allowed in a spec. Tags such as `!!python/object` or custom `!Ref`
tags could construct arbitrary objects or mean something only one tool understands.
""")
ALIAS_BOMB = code("FS004", "aliases expand too far", """
Anchors and aliases (`&a`, `*a`) expand to far more data than the document holds, the shape
of a "billion laughs" attack. Write the values out, or use fewer nested aliases.
""")
EMPTY_FILE = code("FS005", "empty file", """
The file holds no YAML document. A spec starts with `apiVersion: flowspec/v1`.
""")
NOT_A_MAPPING = code("FS006", "document is not a mapping", """
A spec is a mapping with keys such as `apiVersion`, `kind`, `metadata` and `steps`.
""")
MULTI_DOCUMENT = code("FS007", "more than one document", """
A spec file holds exactly one YAML document; this one has a `---` separator followed by a
second document. Put each workflow in its own file.
""")
BAD_ENCODING = code("FS008", "not UTF-8 text", """
The file is not UTF-8 text (or holds binary data). Save it as UTF-8.
""")
UNREADABLE = code("FS010", "file cannot be read", """
The file could not be opened, is not a regular file (a folder, a pipe, a device), or is too
large to be a spec: over 8 MiB, or over 1,000,000 YAML values (nodes). A spec is far smaller;
split a huge one, or generate its repetitive parts with fan-out (`items`).
""")

_CORE_TAGS = {
    "tag:yaml.org,2002:str", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool", "tag:yaml.org,2002:null", "tag:yaml.org,2002:map",
    "tag:yaml.org,2002:seq", "tag:yaml.org,2002:merge", "tag:yaml.org,2002:timestamp",
}
_STR = "tag:yaml.org,2002:str"

_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT10 = re.compile(r"^[-+]?[0-9]+$")
_INT8 = re.compile(r"^0o[0-7]+$")
_INT16 = re.compile(r"^0x[0-9a-fA-F]+$")
_FLOAT = re.compile(r"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$")
_INF = re.compile(r"^[-+]?\.(?:inf|Inf|INF)$")
_NAN = re.compile(r"^\.(?:nan|NaN|NAN)$")


def _read_plain(text: str) -> Any:
    """YAML 1.2 core schema reading of a plain scalar."""
    if _NULL.match(text):
        return None
    if text in _BOOL:
        return _BOOL[text]
    if _INT10.match(text):
        return int(text, 10)
    if _INT8.match(text):
        return int(text, 8)
    if _INT16.match(text):
        return int(text, 16)
    if _FLOAT.match(text):
        return float(text)
    if _INF.match(text):
        return -math.inf if text.startswith("-") else math.inf
    if _NAN.match(text):
        return math.nan
    return text


_YAML11_SHORT_BOOLS = frozenset({"y", "Y", "n", "N"})


def octal_value(text: str) -> int | None:
    """What a YAML 1.1 reader makes of a zero-padded integer such as ``010`` (None if not one)."""
    digits = text.replace("_", "")
    if re.fullmatch(r"[-+]?0[0-7]+", digits) is None:
        return None
    return int(digits, 8)


def _yaml11_note(text: str, value: Any, tag11: str) -> str | None:
    """Why a plain scalar is risky: other YAML readers, or the reader's eye, see something else."""
    kind = tag11.rsplit(":", 1)[-1]
    if text in _YAML11_SHORT_BOOLS:  # in the YAML 1.1 spec and go-yaml v2, not in PyYAML
        return f"YAML 1.1 readers (Kubernetes, Argo) read '{text}' as a boolean"
    if kind == "str" and isinstance(value, str):
        return None  # text to every reader: most scalars, so decided first
    leading_zero = re.match(r"^[-+]?0[0-9]", text) is not None
    if kind == "bool" and not isinstance(value, bool):
        return f"YAML 1.1 readers (Kubernetes, Argo, older PyYAML) read '{text}' as a boolean"
    if kind == "timestamp":
        return f"YAML 1.1 readers read '{text}' as a date"
    octal = octal_value(text)
    if kind == "int" and leading_zero and octal != value:
        return f"YAML 1.1 reads '{text}' as the octal number {octal}, YAML 1.2 as {value}"
    if kind in ("int", "float") and isinstance(value, str):
        return f"YAML 1.1 readers read '{text}' as a number"
    if kind == "str" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"YAML 1.1 readers read '{text}' as text, YAML 1.2 as the number {value!r}"
    if isinstance(value, float) and not math.isnan(value) and repr(value) != text.lstrip("+"):
        return f"'{text}' is the number {value!r}, not the text '{text}'"
    if isinstance(value, int) and not isinstance(value, bool) and leading_zero:
        return f"'{text}' is the number {value}; its leading zeros are lost"
    return None


@dataclass(slots=True)
class NodeInfo:
    """Where one value sits: its key's span (None for list items and the root) and its own."""

    key: Span | None
    value: Span
    plain: bool = False  # a plain (unquoted) scalar
    start: int = 0  # character offset of the value in the file
    end: int = 0  # character offset just past the value
    style: str = ""  # a scalar's quote or block indicator: ', ", | or >


@dataclass
class Document:
    """A loaded spec: plain data plus where each piece of it came from."""

    source: Source
    data: Any
    nodes: dict[Path, NodeInfo] = field(default_factory=dict)
    #: paths of plain scalars whose reading is ambiguous, with the reason
    ambiguous: dict[Path, str] = field(default_factory=dict)
    #: each scalar's character offsets, rebuilt once: a condition with thousands of problems
    #: asks for spans inside it thousands of times
    _offsets: dict[Path, list[int] | None] = field(default_factory=dict, repr=False)

    @property
    def file(self) -> str:
        return self.source.path

    def span(self, path: Path, *, key: bool = False) -> Span:
        """The span of a path, or of its nearest ancestor that exists (e.g. for a missing key)."""
        p = tuple(path)
        while p not in self.nodes and p:
            p = p[:-1]
        info = self.nodes.get(p)
        if info is None:
            return Span.point(1, 1)
        if key and info.key is not None:
            return info.key
        return info.value

    def value_at(self, path: Path) -> Any:
        value = self.data
        for part in path:
            value = value[part]
        return value

    def text_span(self, path: Path, start: int, end: int) -> Span:
        """The span of characters [start, end) inside a string value, e.g. part of a condition.

        Exact for plain and block scalars (also when folded over several lines) and for quoted
        scalars without escapes on one line; otherwise the whole value, which is still the
        right place to look.
        """
        info = self.nodes.get(tuple(path))
        if info is None:
            return self.span(path)
        value_span = info.value
        value = self.value_at(path)
        if isinstance(value, str) and (info.plain or info.style in ("|", ">")):
            key = tuple(path)
            if key not in self._offsets:
                self._offsets[key] = _value_offsets(self.source.text, info, value)
            offsets = self._offsets[key]
            if offsets:
                first = offsets[start] if start < len(offsets) else offsets[-1] + 1
                last = offsets[end - 1] + 1 if start < end <= len(offsets) else first + 1
                return self.source.span(first, last)
        elif value_span.line == value_span.end_line:
            shift = 1 if info.style in ("'", '"') else 0
            raw = self.source.text[info.start + shift : info.start + shift + end]
            if "\\" not in raw and "''" not in raw:
                return self.source.span(info.start + shift + start, info.start + shift + end)
        return value_span


Piece = tuple[int, str] | None  # a source line's content and its offset; None for a blank line


def _value_offsets(text: str, info: NodeInfo, value: str) -> list[int] | None:
    """The file offset of each character of a plain or block scalar's value, rebuilt from its
    source lines with YAML's folding rules; None when the rebuilt text differs from what the
    parser read (escapes, explicit indentation, tabs...), so a caller never gets a wrong spot."""
    region = text[info.start : info.end]
    lines = region.split("\n")
    pieces: list[Piece] = []
    literal = info.style == "|"
    if info.plain:
        pos = info.start
        for i, line in enumerate(lines):
            body = line.strip() if i else line.rstrip()
            lead = len(line) - len(line.lstrip()) if i else 0
            pieces.append((pos + lead, body) if body else None)
            pos += len(line) + 1
    else:
        header = lines[0].split("#", 1)[0]
        if any(c.isdigit() for c in header):
            return None
        pos = info.start + len(lines[0]) + 1
        indent: int | None = None
        for line in lines[1:]:
            body = line.lstrip(" ")
            if not body.strip():
                pieces.append(None)
            else:
                indent = len(line) - len(body) if indent is None else indent
                pieces.append((pos + indent, line[indent:]))
            pos += len(line) + 1
    built, offsets = _join_lines(pieces, literal)
    return offsets if built.rstrip("\n") == value.rstrip("\n") else None


def _join_lines(pieces: list[Piece], literal: bool) -> tuple[str, list[int]]:
    """Lines joined as YAML does: kept breaks in literal style and around more-indented
    lines, else one break folded into a space and n blank lines into n newlines."""
    out: list[str] = []
    offsets: list[int] = []
    previous_end: int | None = None
    previous_spaced = False
    blanks = 0
    for piece in pieces:
        if piece is None:
            blanks += 1
            continue
        offset, content = piece
        spaced = content[:1] in (" ", "\t")
        if previous_end is None:
            joiner = "\n" * blanks
        elif literal or spaced or previous_spaced:
            joiner = "\n" * (blanks + 1)
        else:
            joiner = "\n" * blanks if blanks else " "
        out.append(joiner)
        offsets.extend([previous_end if previous_end is not None else offset] * len(joiner))
        out.append(content)
        offsets.extend(range(offset, offset + len(content)))
        previous_end, previous_spaced, blanks = offset + len(content), spaced, 0
    return "".join(out), offsets


class LoadError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def _mark_span(node: yaml.Node) -> Span:
    s, e = node.start_mark, node.end_mark
    if (e.line, e.column) <= (s.line, s.column):
        return Span(s.line + 1, s.column + 1, s.line + 1, s.column + 2)
    return Span(s.line + 1, s.column + 1, e.line + 1, e.column + 1)


class _Builder:
    """Turns a composed node graph into plain values, one node at a time."""

    def __init__(self, source: Source, resolver: Any) -> None:
        self.source = source
        self.resolver = resolver
        self.nodes: dict[Path, NodeInfo] = {}
        self.ambiguous: dict[Path, str] = {}
        self.diagnostics: list[Diagnostic] = []

    def fail(self, node: yaml.Node, c: Any, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic.at(self.source.path, _mark_span(node), c, message, hint))

    def build(self, node: yaml.Node, path: Path, key_span: Span | None) -> Any:
        if node.tag not in _CORE_TAGS:
            # an unknown tag on a composite node: refuse it, keep checking inside
            shown = node.tag.replace("tag:yaml.org,2002:", "!!")
            self.fail(node, FORBIDDEN_TAG, f"tag '{shown}' is not allowed in a spec",
                      "remove the tag; specs hold plain strings, numbers, lists and mappings")
        info = NodeInfo(key_span, _mark_span(node), start=node.start_mark.index,
                        end=node.end_mark.index)
        self.nodes[path] = info
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), None) for i, item in enumerate(node.value)]
        assert isinstance(node, yaml.ScalarNode)  # the composer makes only these three
        return self._scalar(node, path, info)

    def _scalar(self, node: yaml.ScalarNode, path: Path, info: NodeInfo) -> Any:
        text: str = node.value
        if node.style:  # quoted or block scalar: always a string
            info.style = node.style
            return text
        implicit = self.resolver.resolve(yaml.ScalarNode, text, (True, False))
        if node.tag != implicit:  # an explicit tag such as !!str
            if node.tag == _STR:
                return text
            if node.tag not in _CORE_TAGS:
                return text
        info.plain = True
        value = _read_plain(text)
        note = _yaml11_note(text, value, implicit)
        if note:
            self.ambiguous[path] = note
        return value

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[str, Any]:
        result: dict[str, Any] = {}
        merged: list[yaml.Node] = []
        seen: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                merged.extend(value_node.value if isinstance(value_node, yaml.SequenceNode)
                              else [value_node])
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.fail(key_node, YAML_SYNTAX, "a mapping key must be a plain name",
                          "use a string key")
                continue
            key = key_node.value
            if key in seen:
                first = seen[key].start_mark.line + 1
                self.fail(key_node, DUPLICATE_KEY, f"key '{key}' appears twice in this mapping",
                          f"the first '{key}' is on line {first}; remove or rename one of them")
                continue
            seen[key] = key_node
            result[key] = self.build(value_node, (*path, key), _mark_span(key_node))
        for source in merged:  # YAML merge keys: explicit keys win, earlier merges win
            if not isinstance(source, yaml.MappingNode):
                self.fail(source, YAML_SYNTAX, "'<<' must merge a mapping or a list of mappings")
                continue
            for key_node, value_node in source.value:
                key = key_node.value
                if isinstance(key, str) and key not in result:
                    result[key] = self.build(value_node, (*path, key), _mark_span(key_node))
        return result


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value
    elif isinstance(node, yaml.SequenceNode):
        yield from node.value


def _expanded_sizes(root: yaml.Node) -> tuple[dict[int, int], yaml.Node | None]:
    """How many values each node (by id) expands to once aliases are copied out, and a node
    that contains an alias to itself, if any. Aliased nodes are shared in the composed graph,
    so this costs one visit per distinct node, however far the aliases would expand."""
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            on_path.discard(key)
            sizes[key] = 1 + sum(sizes[id(child)] for child in _children(node))
        elif key in on_path:
            return sizes, node
        elif key not in sizes:
            on_path.add(key)
            stack.append((node, True))
            stack.extend((child, False) for child in _children(node))
    return sizes, None


def _anchor_name(source: Source, node: yaml.Node) -> str:
    match = re.match(r"&([^\s,\[\]{}]+)", source.text[node.start_mark.index:])
    return f"the anchor '&{match.group(1)}'" if match else "this value"


#: an alias token (``*name`` after a space, a line start or a flow indicator): without one
#: nothing can expand, and the measuring below is skipped (a false match only costs time)
_ALIAS = re.compile(r"(?:^|[\s\[{,])\*[^\s,\[\]{}]", re.MULTILINE)


def _alias_problem(source: Source, root: yaml.Node) -> Diagnostic | None:
    """FS004 for an alias inside its own anchor, or for aliases that expand to far more values
    than the file holds, placed on the deepest anchor that is already too big."""
    sizes, recursive = _expanded_sizes(root)
    if recursive is not None:
        return Diagnostic.at(source.path, _mark_span(recursive), ALIAS_BOMB,
                             f"{_anchor_name(source, recursive)} contains an alias to itself",
                             "an alias can only repeat a value that is already complete")
    budget = max(MIN_ALIAS_BUDGET, len(sizes) * 10)
    if sizes[id(root)] <= budget:
        return None
    node = root
    while True:
        child = max(_children(node), key=lambda c: sizes[id(c)])
        if sizes[id(child)] <= budget:
            break
        node = child
    return Diagnostic.at(
        source.path, _mark_span(node), ALIAS_BOMB,
        f"{_anchor_name(source, node)} expands to {sizes[id(node)]:,} values through nested "
        f"aliases; the file itself holds {len(sizes):,}",
        "write the repeated values out instead of nesting aliases")


_UTF16_32_BOMS = (
    codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE,
)


def _decode(path: str, raw: bytes) -> str:
    if raw.startswith(_UTF16_32_BOMS):  # what some Windows editors save as "Unicode"
        raise LoadError(Diagnostic.at(path, Span.point(1, 1), BAD_ENCODING,
                                      "the file is UTF-16 or UTF-32 text, not UTF-8",
                                      "save the file as UTF-8"))
    if b"\x00" in raw[:8192]:
        raise LoadError(Diagnostic.at(path, Span.point(1, 1), BAD_ENCODING,
                                      "the file holds binary data, not YAML text",
                                      "give flowspec a YAML spec file"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        good = raw[: exc.start].decode("utf-8", errors="replace")
        src = Source(path, good)
        line, col = src.position(len(good))
        raise LoadError(Diagnostic.at(
            path, Span.point(line, col), BAD_ENCODING,
            f"byte 0x{raw[exc.start]:02x} at offset {exc.start} is not valid UTF-8",
            "save the file as UTF-8",
        )) from None
    return text


def read_source(path: str) -> Source:
    """The file's text; a pipe or device is refused without waiting on it (O_NONBLOCK)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with open(fd, "rb") as fh:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise LoadError(Diagnostic.at(path, Span.point(1, 1), UNREADABLE,
                                              "not a regular file", "give the path of a spec file"))
            raw = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise LoadError(Diagnostic.at(path, Span.point(1, 1), UNREADABLE,
                                      f"cannot read the file: {exc.strerror or exc}")) from None
    if len(raw) > MAX_BYTES:
        raise LoadError(Diagnostic.at(path, Span.point(1, 1), UNREADABLE,
                                      "the file is larger than 8 MiB; a spec is much smaller"))
    return Source(path, _decode(path, raw))


#: libyaml's context -> (use the context mark, message, hint) for the common mistakes whose
#: real cause is where the construct started, not where the parser gave up
_SYNTAX_CONTEXTS = {
    "while scanning a simple key": (
        True, "this line has no ':' after its key",
        "write 'key: value' (a space after the colon), or quote the line if it is text"),
    "while scanning a quoted scalar": (
        True, "this quoted text is never closed", "add the closing quote"),
    "while parsing a flow sequence": (
        True, "this '[' list is missing a ',' or its closing ']'",
        "separate items with ', ' and close the list with ']'"),
    "while parsing a flow mapping": (
        True, "this '{' mapping is missing a ',' or its closing '}'",
        "separate entries with ', ' and close the mapping with '}'"),
}
_BAD_START = {
    "\t": ("a tab is used for indentation", "YAML does not allow tabs for indentation; use spaces"),
    "@": ("'@' cannot start a plain value", "quote the value: '@...'"),
    "`": ("'`' cannot start a plain value", "quote the value"),
    "%": ("'%' cannot start a plain value", "quote the value: '%...'"),
}


def _syntax_error(source: Source, exc: yaml.MarkedYAMLError) -> Diagnostic:
    """FS001 at the place a person would fix, with the usual cause as the hint."""
    mark = exc.problem_mark or exc.context_mark
    message = (exc.problem or exc.context or "invalid YAML").strip()
    hint: str | None = None
    known = _SYNTAX_CONTEXTS.get((exc.context or "").strip())
    if known is not None and exc.context_mark is not None:
        use_context, message, hint = known
        if use_context:
            mark = exc.context_mark
    elif "cannot start any token" in message and mark is not None:
        char = source.text[mark.index: mark.index + 1]
        message, hint = _BAD_START.get(char, (message, "quote the value"))
    elif "undefined alias" in message:
        hint = "define the anchor (&name) before its alias (*name)"
    elif mark is not None and exc.context_mark is not None and exc.context:
        hint = f"{exc.context.strip()} on line {exc.context_mark.line + 1}"
    span = Span.point(mark.line + 1, mark.column + 1) if mark else Span.point(1, 1)
    return Diagnostic.at(source.path, span, YAML_SYNTAX, message, hint)


def _documents(loader: Any) -> Iterator[yaml.Node]:
    while loader.check_node():
        yield loader.get_node()


def load_source(source: Source) -> tuple[Document | None, list[Diagnostic]]:
    """Parse one source; returns the document (None if unusable) and every load diagnostic.

    The collector is left as the process set it: a library must not change process-wide
    state (the ``flowspec`` command tunes it for itself, see ``engine.cli.main.tune_gc``)."""
    return _load_source(source)


def _too_many_nodes(text: str) -> bool:
    """More than MAX_NODES YAML nodes, decided without building any.

    Every node but the root follows one of ``: , - [ { ?`` and each of those starts at most
    two nodes (a key and its value), so counting them bounds the nodes in a few passes of
    C code; only past that bound are the parser's events counted, and never beyond
    MAX_NODES of them, so a flood of tiny values costs no more than the limit.
    """
    if 2 * sum(text.count(c) for c in ":,-[{?") + 1 <= MAX_NODES:
        return False
    loader = _BaseLoader(text)
    nodes = 0
    try:
        while loader.check_event():
            if isinstance(loader.get_event(), _NODE_EVENTS):
                nodes += 1
                if nodes > MAX_NODES:
                    return True
    except yaml.YAMLError:
        return False  # the parse that follows reports it where it is
    finally:
        loader.dispose()
    return False


_NODE_EVENTS = (yaml.ScalarEvent, yaml.SequenceStartEvent, yaml.MappingStartEvent,
                yaml.AliasEvent)


def _load_source(source: Source) -> tuple[Document | None, list[Diagnostic]]:
    path = source.path
    if len(source.text) > MAX_BYTES:
        return None, [Diagnostic.at(path, Span.point(1, 1), UNREADABLE,
                                    "the text is larger than 8 MiB; a spec is much smaller")]
    if _too_many_nodes(source.text):
        return None, [Diagnostic.at(
            path, Span.point(1, 1), UNREADABLE,
            f"the document holds more than {MAX_NODES:,} YAML values; a spec is much smaller",
            "split it, or generate repetitive steps with fan-out (items)")]
    loader = _BaseLoader(source.text)
    try:
        docs = _documents(loader)
        root = next(docs, None)
        if root is None:
            return None, [Diagnostic.at(path, Span.point(1, 1), EMPTY_FILE,
                                        "the file is empty", "start with 'apiVersion: flowspec/v1'")]
        extra = next(docs, None)
        if extra is not None:
            return None, [Diagnostic.at(path, _mark_span(extra), MULTI_DOCUMENT,
                                        "the file holds more than one YAML document",
                                        "put each workflow in its own file")]
    except yaml.MarkedYAMLError as exc:
        return None, [_syntax_error(source, exc)]
    except yaml.YAMLError as exc:
        return None, [Diagnostic.at(path, Span.point(1, 1), YAML_SYNTAX, str(exc).strip())]
    finally:
        loader.dispose()
    bomb = _alias_problem(source, root) if _ALIAS.search(source.text) else None
    if bomb is not None:
        return None, [bomb]
    builder = _Builder(source, loader)
    try:
        data = builder.build(root, (), None)
    except RecursionError:
        return None, [Diagnostic.at(path, Span.point(1, 1), ALIAS_BOMB,
                                    "the document nests too deeply",
                                    "flatten the structure; a spec needs only a few levels")]
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        builder.diagnostics.append(Diagnostic.at(
            path, _mark_span(root), NOT_A_MAPPING, f"the document is {kind}, not a mapping",
            "a spec starts with 'apiVersion: flowspec/v1' and 'kind: Workflow'"))
        return None, builder.diagnostics
    doc = Document(source, data, builder.nodes, builder.ambiguous)
    return doc, builder.diagnostics


def comments(text: str, among: re.Pattern[str]) -> Iterator[re.Match[str]]:
    """The matches of ``among`` (a pattern starting with ``#``) that are YAML comments.

    The scanner drops comments, so a match counts when its ``#`` begins a line or follows a
    blank, and lies outside every scalar (``echo '# x'`` and a block scalar's lines are text,
    not comments). The text is scanned only when ``among`` matches somewhere at all.
    """
    candidates = [m for m in among.finditer(text)
                  if m.start() == 0 or text[m.start() - 1] in " \t\n"]
    if not candidates:
        return
    scalars = [(token.start_mark.index, token.end_mark.index)
               for token in yaml.scan(text, Loader=_BaseLoader)
               if isinstance(token, yaml.ScalarToken)]
    starts = [start for start, _ in scalars]
    for match in candidates:
        i = bisect_right(starts, match.start()) - 1
        if i < 0 or match.start() >= scalars[i][1]:
            yield match


def load_file(path: str) -> tuple[Document | None, list[Diagnostic]]:
    try:
        source = read_source(path)
    except LoadError as exc:
        return None, [exc.diagnostic]
    return load_source(source)


def load_text(text: str, path: str = "<string>") -> tuple[Document | None, list[Diagnostic]]:
    return load_source(Source(path, text))
