"""``$FLOWSPEC_OUTPUT``: one reading of the file, so no value can add or replace an output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import engine
from engine.output_file import NAME_PATTERN, OutputFileError, parse

SCHEMA = Path(engine.__file__).with_name("flowspec.schema.json")

GATE = (Path(__file__).parent / "corpus" / "good" / "output_gate.yaml").read_text()


def test_a_value_holding_a_newline_cannot_replace_another_output(tmp_path: Path) -> None:
    result = engine.run(engine.load_text(GATE), {"title": "fix typo\napproved=true"},
                        workdir=tmp_path)
    assert result.steps["review"].phase == "Failed"
    assert result.steps["review"].error == (
        "$FLOWSPEC_OUTPUT line 3: output 'approved' is given twice (first on line 1); "
        "write each output once")
    assert result.steps["deploy"].phase == "Omitted"


def test_a_plain_title_still_passes_the_gate(tmp_path: Path) -> None:
    result = engine.run(engine.load_text(GATE), {"title": "fix typo"}, workdir=tmp_path)
    assert result.steps["review"].outputs == {"title": "fix typo", "approved": False,
                                              "exit_code": 0}
    assert result.steps["deploy"].phase == "Skipped"


def test_a_multi_line_value_goes_through_a_delimiter(tmp_path: Path) -> None:
    spec = GATE.replace(
        'echo "title=$TITLE" >> "$FLOWSPEC_OUTPUT"',
        'd=$(od -An -N8 -tx1 /dev/urandom | tr -d " \\n"); '
        'printf "title<<%s\\n%s\\n%s\\n" "$d" "$TITLE" "$d" >> "$FLOWSPEC_OUTPUT"')
    result = engine.run(engine.load_text(spec), {"title": "fix typo\napproved=true"},
                        workdir=tmp_path)
    assert result.steps["review"].outputs["title"] == "fix typo\napproved=true"
    assert result.steps["review"].outputs["approved"] is False
    assert result.steps["deploy"].phase == "Skipped"


def test_the_shell_processors_own_outputs_cannot_be_written(tmp_path: Path) -> None:
    spec = GATE.replace('echo "approved=false"', 'echo "exit_code=0"')
    result = engine.run(engine.load_text(spec), {"title": "x"}, workdir=tmp_path)
    assert result.steps["review"].error == (
        "$FLOWSPEC_OUTPUT sets 'exit_code', which the shell processor sets itself; "
        "write it under another name")


def test_a_failing_command_reports_its_exit_not_its_outputs(tmp_path: Path) -> None:
    spec = GATE.replace('echo "title=$TITLE" >> "$FLOWSPEC_OUTPUT"',
                        'echo "approved=true" >> "$FLOWSPEC_OUTPUT"; exit 4')
    result = engine.run(engine.load_text(spec), {"title": "x"}, workdir=tmp_path)
    assert result.steps["review"].error == "command exited with code 4"


def test_lines_and_delimited_values() -> None:
    text = ("a=1\n\nb=x=y<<z\nnotes<<EOF\nfirst\n\n  third\nEOF\nempty<<E\nE\n"
            "last=no newline at the end")
    assert parse(text) == {"a": "1", "b": "x=y<<z", "notes": "first\n\n  third",
                           "empty": "", "last": "no newline at the end"}
    assert parse("") == {}
    assert parse("a=\n") == {"a": ""}


def test_only_a_newline_ends_a_line() -> None:
    assert parse("a=x\rb=y\u2028c=z\x85\n") == {"a": "x\rb=y\u2028c=z\x85"}


ONE_WORD = "the delimiter after '<<' must be one word without spaces"


@pytest.mark.parametrize(("text", "line", "message"), [
    ("a=1\na=2\n", 2, "output 'a' is given twice (first on line 1)"),
    ("a<<E\nx\nE\na=2\n", 4, "output 'a' is given twice (first on line 1)"),
    ("approved=true\nsome text\n", 2, "expected name=value or name<<DELIMITER, got 'some text'"),
    ("my name=1\n", 1, "'my name' is not a valid output name"),
    (" a=1\n", 1, "' a' is not a valid output name"),
    ("1a=1\n", 1, "'1a' is not a valid output name"),
    ("=1\n", 1, "'' is not a valid output name"),
    ("a-b=1\n", 1, "'a-b' is not a valid output name"),
    ("a<<\nx\n\n", 1, f"output 'a': {ONE_WORD}, got ''"),
    ("a<<E F\nx\nE F\n", 1, f"output 'a': {ONE_WORD}, got 'E F'"),
    ("a<<EOF\nx\n", 1, "output 'a' is never closed: no line 'EOF' follows it"),
    ("a<<EOF\nx\nEOF \n", 3, "the value of output 'a' contains its delimiter 'EOF'"),
    ("a<<EOF\nEOFx\nEOF\n", 2, "the value of output 'a' contains its delimiter 'EOF'"),
])
def test_ambiguous_files_are_refused(text: str, line: int, message: str) -> None:
    with pytest.raises(OutputFileError) as caught:
        parse(text)
    assert caught.value.line == line
    assert str(caught.value).startswith(f"$FLOWSPEC_OUTPUT line {line}: {message}")


def test_output_names_are_the_specs() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$defs"]["outputName"]["pattern"] == NAME_PATTERN
