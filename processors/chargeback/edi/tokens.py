"""X12 lexing: the delimiters an interchange declares in its own ISA, and its segments.

Shared by the 844 reader and the tests of the 849 writer. Segments are produced one at a time
(:func:`segments`): a 100,000-line claim is a million segments, and holding them all as
objects cost several times the claim itself.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Iterator

ISA_LENGTH = 106
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
_SEGMENT_ID = re.compile(r"[A-Z][A-Z0-9]{1,2}")


class ClaimFormatError(ValueError):
    """The document is not a well-formed 844; ``position``/``segment_id`` locate the problem."""

    def __init__(self, reason: str, *, position: int | None = None, segment_id: str | None = None):
        self.reason = reason
        self.position = position
        self.segment_id = segment_id
        where = f"segment {position} ({segment_id}): " if position is not None else ""
        super().__init__(where + reason)


@dataclasses.dataclass(frozen=True)
class Delimiters:
    element: str = "*"
    component: str = ">"
    segment: str = "~"


#: ``*``, ``>`` and ``~``: what we write unless told otherwise
STANDARD = Delimiters()


@dataclasses.dataclass(frozen=True, slots=True)
class Segment:
    """One segment; ``el(1)`` is the first element after the id, "" when absent."""

    position: int
    id: str
    elements: tuple[str, ...]

    def el(self, n: int) -> str:
        return self.elements[n - 1].strip() if n <= len(self.elements) else ""

    def error(self, reason: str) -> ClaimFormatError:
        return ClaimFormatError(reason, position=self.position, segment_id=self.id)


# ---------------------------------------------------------------------------------------------
# Lexing


def decode_text(data: str | bytes) -> tuple[str, str]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # X12 extended character set is a subset of Latin-1
    return text.lstrip("\ufeff \t\r\n"), digest


def _isa_error(reason: str) -> ClaimFormatError:
    return ClaimFormatError(reason, position=1, segment_id="ISA")


def _read_delimiters(text: str) -> Delimiters:
    if not text.strip():
        raise ClaimFormatError("the document is empty")
    if not text.startswith("ISA"):
        raise ClaimFormatError(
            f"the document starts with {text[:3]!r}, not ISA: it is not an X12 interchange"
        )
    if len(text) < ISA_LENGTH:
        raise _isa_error(
            f"the ISA segment is {ISA_LENGTH} characters but the document has only "
            f"{len(text)}: the file is truncated"
        )
    element = text[3]
    if element.isalnum() or element.isspace():
        raise _isa_error(f"element separator {element!r} must be a punctuation character")
    fields = text.split(element, 16)
    if len(fields) < 17 or len(fields[16]) < 2:
        raise _isa_error("the ISA segment has fewer than 16 elements")
    for n, (value, width) in enumerate(zip(fields[1:16], _ISA_WIDTHS, strict=False), start=1):
        if len(value) != width:
            raise _isa_error(
                f"ISA{n:02d} must be exactly {width} characters (pad with spaces); got {len(value)}"
            )
    component, segment = fields[16][0], fields[16][1]
    if segment.isalnum() or segment in (element, component, " "):
        raise _isa_error(
            f"segment terminator {segment!r} (the character after ISA16) is not a usable delimiter"
        )
    return Delimiters(element, component, segment)


def tokenize(text: str) -> tuple[Delimiters, Iterator[Segment]]:
    """Split an interchange into segments with delimiters read from its own ISA (brief §2.6).

    The delimiters are read at once; the segments one at a time, as the reader asks for them,
    so a malformed segment is reported when the reader reaches it."""
    delims = _read_delimiters(text)
    return delims, _segments(text, delims)


def _segments(text: str, delims: Delimiters) -> Iterator[Segment]:
    terminator, separator = delims.segment, delims.element
    find = text.find
    start = position = 0
    while (end := find(terminator, start)) >= 0:
        piece, start = text[start:end], end + 1
        position += 1
        body = piece.strip("\r\n")
        blank = not body.strip()
        if blank and terminator in "\r\n":
            continue  # a blank line when the terminator is itself a line break
        if blank:
            raise ClaimFormatError(
                f"empty segment (two terminators {terminator!r} in a row)",
                position=position,
                segment_id="",
            )
        seg_id, *elements = body.split(separator)
        seg_id = seg_id.strip()
        if not _SEGMENT_ID.fullmatch(seg_id):
            raise ClaimFormatError(
                f"{seg_id[:10]!r} is not a segment id", position=position, segment_id=seg_id[:3]
            )
        yield Segment(position, seg_id, tuple(elements))
    tail = text[start:]
    if tail.strip():
        seg_id = tail.strip().split(separator)[0][:3]
        raise ClaimFormatError(
            f"the file ends inside this segment (no terminator {terminator!r}): it is truncated",
            position=position + 1,
            segment_id=seg_id,
        )
