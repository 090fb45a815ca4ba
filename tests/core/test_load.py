"""The loader: safe, positioned, and clear about every kind of bad input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from engine.loader import load_file, load_text


def codes(text: str) -> list[tuple[str, int, int]]:
    return [(d.code, d.line, d.column) for d in load_text(text, "t.yaml")[1]]


def test_positions_of_keys_and_values() -> None:
    doc, diags = load_text("a:\n  b: [1, 'x']\n  c: hello\n")
    assert not diags and doc is not None
    assert doc.data == {"a": {"b": [1, "x"], "c": "hello"}}
    assert doc.span(("a", "c"), key=True).line == 3
    assert (doc.span(("a", "b", 1)).line, doc.span(("a", "b", 1)).column) == (2, 10)
    # a missing path falls back to its nearest ancestor (the mapping that lacks the key)
    assert doc.span(("a", "missing")) == doc.span(("a",))
    assert doc.span(("a", "missing"), key=True).line == 1


def test_duplicate_keys_are_errors_at_the_second_key() -> None:
    assert codes("a: 1\nb: 2\na: 3\n") == [("FS002", 3, 1)]


def test_nested_duplicate_keys() -> None:
    assert codes("steps:\n  - name: a\n    name: b\n") == [("FS002", 3, 5)]


@pytest.mark.parametrize("tag", ["!!python/object:os.system", "!Ref", "!!binary", "!!set"])
def test_tags_other_than_core_are_refused(tag: str) -> None:
    found = codes(f"a: {tag} x\n")
    assert found and found[0][0] in ("FS003", "FS001")


def test_billion_laughs_fails_fast() -> None:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        prev, cur = chr(96 + i), chr(97 + i)
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    started = time.perf_counter()
    found = codes("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 5  # generous: the point is "not forever"
    assert found[0][0] == "FS004"


def test_ordinary_aliases_and_merge_keys_work() -> None:
    doc, diags = load_text("base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n")
    assert not diags and doc is not None
    assert doc.data["other"] == {"x": 1, "y": 3}


@pytest.mark.parametrize(
    ("text", "value", "flagged"),
    [
        ("v: on", "on", True),
        ("v: NO", "NO", True),
        ("v: yes", "yes", True),
        ("v: 010", 10, True),
        ("v: 1.10", 1.1, True),
        ("v: 2024-01-01", "2024-01-01", True),
        ("v: '010'", "010", False),
        ("v: true", True, False),
        ("v: 42", 42, False),
        ("v: 1.5", 1.5, False),
        ("v: hello", "hello", False),
    ],
)
def test_yaml_1_2_reading_with_1_1_surprises_recorded(text: str, value: object, flagged: bool) -> None:
    doc, diags = load_text(text)
    assert doc is not None and not diags
    assert doc.data["v"] == value
    assert (("v",) in doc.ambiguous) is flagged


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "FS005"),
        ("# only a comment\n", "FS005"),
        ("- a\n- b\n", "FS006"),
        ("just text\n", "FS006"),
        ("a: 1\n---\nb: 2\n", "FS007"),
        ("a: [1, 2\n", "FS001"),
        ("a:\n\tb: 1\n", "FS001"),
    ],
)
def test_bad_documents(text: str, code: str) -> None:
    assert codes(text)[0][0] == code


def test_binary_and_non_utf8_files(tmp_path: Path) -> None:
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\x7fELF\x00\x01\x02garbage")
    assert load_file(str(binary))[1][0].code == "FS008"
    latin1 = tmp_path / "latin1.yaml"
    latin1.write_bytes("name: caf\xe9\n".encode("latin-1"))
    diag = load_file(str(latin1))[1][0]
    assert (diag.code, diag.line, diag.column) == ("FS008", 1, 10)
    missing = load_file(str(tmp_path / "nope.yaml"))[1][0]
    assert missing.code == "FS010"


def test_text_span_inside_plain_and_quoted_scalars() -> None:
    doc, _ = load_text("a: x == y\nb: 'p == q'\n")
    assert doc is not None
    plain = doc.text_span(("a",), 2, 4)  # the '==' of 'x == y'
    assert (plain.line, plain.column, plain.end_column) == (1, 6, 8)
    quoted = doc.text_span(("b",), 2, 4)
    assert (quoted.line, quoted.column, quoted.end_column) == (2, 7, 9)
