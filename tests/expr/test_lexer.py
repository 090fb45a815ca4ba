from __future__ import annotations

import pytest

from engine.expr.errors import ExprSyntaxError
from engine.expr.lexer import EOF, FLOAT, INT, NAME, STRING, tokenize


def kinds(text: str) -> list[str]:
    return [t.kind for t in tokenize(text)]


def test_names_may_contain_dashes_and_keywords_are_their_own_kinds() -> None:
    tokens = tokenize("steps.load-b.status in [true, null]")
    assert [t.kind for t in tokens] == [
        NAME, ".", NAME, ".", NAME, "in", "[", "true", ",", "null", "]", EOF,
    ]
    assert tokens[2].text == "load-b"
    assert (tokens[2].start, tokens[2].end) == (6, 12)


def test_operators_are_longest_match() -> None:
    assert kinds("a<=b>=c!=d==e&&f||!g<h>i") == [
        NAME, "<=", NAME, ">=", NAME, "!=", NAME, "==", NAME, "&&", NAME, "||", "!", NAME,
        "<", NAME, ">", NAME, EOF,
    ]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [("42", INT, 42), ("-3", INT, -3), ("007", INT, 7), ("2.5", FLOAT, 2.5),
     ("1e3", FLOAT, 1000.0), ("-1.5E-2", FLOAT, -0.015)],
)
def test_numbers(text: str, kind: str, value: object) -> None:
    token = tokenize(text)[0]
    assert (token.kind, token.value) == (kind, value)
    assert type(token.value) is type(value)


@pytest.mark.parametrize(
    ("text", "value"),
    [(r"'it\'s'", "it's"), (r'"say \"hi\""', 'say "hi"'),
     (r"'a\nb\tc\\d'", "a\nb\tc\\d"), (r"'\u007b\u007d'", "{}"), ("\"it's\"", "it's"),
     ("'é ✓'", "é ✓")],
)
def test_strings(text: str, value: str) -> None:
    token = tokenize(text)[0]
    assert (token.kind, token.value, token.end) == (STRING, value, len(text))


@pytest.mark.parametrize(
    ("text", "start", "end", "hint_part"),
    [
        ("a = 1", 2, 3, "'=='"),
        ("a & b", 2, 3, "'&&'"),
        ("a | b", 2, 3, "'||'"),
        ("a + 1", 2, 3, "compare values directly"),
        ("a =~ 'x'", 2, 4, "regular expressions"),
        ("'abc", 0, 4, "close the string with '"),
        ('x == "ab', 5, 8, 'close the string with "'),
        (r"'a\qb'", 2, 4, "backslash"),
        ("'a\\", 0, 3, "close the string"),
        ("${{ params.x }}", 0, 1, "without '${{ }}'"),
        ("5abc", 0, 2, "quote text"),
        ("1.2.3", 0, 4, "numbers are written"),
        ("99999999999999999999", 0, 20, "64 bits"),
        ("1e999", 0, 5, None),
        (r"'\ud800'", 1, 7, "character itself"),
    ],
)
def test_errors_have_offsets_and_hints(
    text: str, start: int, end: int, hint_part: str | None
) -> None:
    with pytest.raises(ExprSyntaxError) as caught:
        tokenize(text)
    error = caught.value
    assert (error.start, error.end) == (start, end)
    assert error.code == "FS300"
    if hint_part is not None:
        assert error.hint is not None and hint_part in error.hint


def test_bounds_keep_offsets_of_the_whole_text() -> None:
    text = "FOO=${{ steps.a.outputs.x }}"
    tokens = tokenize(text, "FS309", 7, 26)
    assert [t.text for t in tokens[:-1]] == ["steps", ".", "a", ".", "outputs", ".", "x"]
    assert tokens[0].start == 8 and tokens[-1].start == 26
    with pytest.raises(ExprSyntaxError) as caught:
        tokenize("xx 'abc}}", "FS309", 2, 7)
    assert (caught.value.start, caught.value.end, caught.value.code) == (3, 7, "FS309")
