"""The corpus: every bad spec produces exactly the diagnostics its header promises.

Each ``corpus/bad/NAME.yaml`` starts with comment lines; each ``# expect: CODE LINE:COL [text]``
is one diagnostic the file must produce (``text``, when given, must appear in its message or
hint: the did-you-mean, the cycle path). The set of (code, line, column) must match exactly, so
a missing diagnostic, an extra one and a moved one all fail. ``corpus/good/`` must produce
nothing (the false-positive corpus). A new file is a new test (check-jsonschema's
example-files layout). Inputs that cannot be committed as text (binary, non-UTF-8, huge,
missing) are made here.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine.diagnostics import CODES, Code, Diagnostic
from engine.loader import MAX_BYTES
from engine.validation import validate_file

CORPUS = Path(__file__).parent / "corpus"
BAD = sorted((CORPUS / "bad").glob("*.yaml"))
GOOD = sorted((CORPUS / "good").glob("*.yaml"))
REPO = Path(__file__).resolve().parents[2]

_EXPECT = re.compile(r"^# expect: (FS\d{3}) (\d+):(\d+)(?: (.+))?$")

#: FS105 is the schema pass's fallback for keywords (`not`, `if`, a `false` schema) that the
#: flowspec schema does not use, so no spec can produce it; the test below notices if it can.
UNREACHABLE = {"FS105"}
#: made by the tests in this module, not by committed files
GENERATED = {"FS008", "FS010"}


@dataclass(frozen=True)
class Expect:
    code: str
    line: int
    column: int
    text: str | None


def expectations(path: Path) -> list[Expect]:
    """The ``# expect:`` lines of the leading comment block."""
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        match = _EXPECT.match(line)
        if match:
            code, row, col, text = match.groups()
            found.append(Expect(code, int(row), int(col), text))
        else:
            assert not line.startswith("# expect"), f"{path.name}: malformed line {line!r}"
    return found


@pytest.fixture(autouse=True)
def _corpus_processor_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """Specs name ``tests.core.corpus.processors:LoadTable``; plain ``pytest`` may not have the
    repository root on sys.path the way ``python -m pytest`` does."""
    monkeypatch.syspath_prepend(str(REPO))


def _key(d: Diagnostic) -> tuple[str, int, int]:
    return (d.code, d.line, d.column)


def _assert_well_formed(found: list[Diagnostic], path: Path) -> None:
    for d in found:
        assert d.file == str(path)
        assert (d.end_line, d.end_column) > (d.line, d.column), d
        assert d.severity == CODES[d.code].severity
        assert d.message and "Traceback" not in d.message


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.stem)
def test_bad_spec(path: Path) -> None:
    expected = expectations(path)
    assert expected, f"{path.name} declares no '# expect:' line"
    assert path.name[:5].upper() in {e.code for e in expected}, (
        f"{path.name} is named after a code it does not expect")
    found = validate_file(str(path))
    shown = "\n".join(f"  {d.code} {d.line}:{d.column} {d.message} | {d.hint}" for d in found)
    assert {_key(d) for d in found} == {(e.code, e.line, e.column) for e in expected}, (
        f"{path.name} produced:\n{shown}")
    assert len(found) == len(expected), f"{path.name} produced duplicates:\n{shown}"
    by_key = {_key(d): d for d in found}
    for e in expected:
        if e.text:
            d = by_key[(e.code, e.line, e.column)]
            assert e.text in f"{d.message} {d.hint or ''}", f"{path.name}: {d}"
    _assert_well_formed(found, path)


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.stem)
def test_good_spec_has_no_diagnostics(path: Path) -> None:
    assert expectations(path) == []
    found = validate_file(str(path))
    assert found == [], "\n".join(f"{d.code} {d.line}:{d.column} {d.message}" for d in found)


def validation_codes() -> set[str]:
    """The codes ``flowspec validate`` can give: those the loader, the schema pass, the rules
    and ignore comments declare (other commands, such as compile, declare their own)."""
    import engine.ignores
    import engine.loader
    import engine.rules
    import engine.schema

    modules = [engine.loader, engine.schema, *engine.rules.PASSES, engine.ignores]
    found = set()
    for module in modules:
        for value in vars(module).values():
            if value is CODES:  # the registry of every code, imported by name
                continue
            values = value.values() if isinstance(value, dict) else [value]
            found |= {v.id for v in values if isinstance(v, Code)}
    return found


def test_corpus_size_and_code_coverage() -> None:
    assert len(BAD) >= 60
    assert len(GOOD) >= 5
    covered = {e.code for path in BAD for e in expectations(path)}
    assert validation_codes() - covered - GENERATED == UNREACHABLE
    assert not covered - validation_codes(), "an expectation names a code validate never gives"


# --- inputs that are not text ---------------------------------------------------------------

def _single(path: Path) -> Diagnostic:
    found = validate_file(str(path))
    assert len(found) == 1, found
    return found[0]


def test_binary_file(tmp_path: Path) -> None:
    path = tmp_path / "image.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    d = _single(path)
    assert _key(d) == ("FS008", 1, 1)
    assert "binary" in d.message


def test_non_utf8_byte_is_placed(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("apiVersion: flowspec/v1\nkind: Workflow\nmetadata:\n  name: caf\xe9\n"
                     .encode("latin-1"))
    d = _single(path)
    assert _key(d) == ("FS008", 4, 12)
    assert "0xe9" in d.message and d.hint == "save the file as UTF-8"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_utf16_and_utf32_files(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "windows.yaml"
    path.write_bytes("apiVersion: flowspec/v1\n".encode(encoding))
    d = _single(path)
    assert _key(d) == ("FS008", 1, 1)
    assert "UTF-16 or UTF-32" in d.message


def test_utf8_with_bom_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(codecs.BOM_UTF8 + (CORPUS / "good" / "depends_logic.yaml").read_bytes())
    assert validate_file(str(path)) == []


def test_missing_file() -> None:
    d = _single(CORPUS / "bad" / "no-such-spec.yaml")
    assert _key(d) == ("FS010", 1, 1)
    assert "cannot read" in d.message


def test_folder_given_as_file(tmp_path: Path) -> None:
    assert _key(_single(tmp_path)) == ("FS010", 1, 1)


def test_file_over_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"# padding\n" * (MAX_BYTES // 10 + 1))
    d = _single(path)
    assert _key(d) == ("FS010", 1, 1)
    assert "8 MiB" in d.message
