"""The file a shell step writes its outputs to (``$FLOWSPEC_OUTPUT``), read one way only.

The format is GitHub Actions' ``GITHUB_OUTPUT`` file, with its ambiguities made errors. A line
``name=value`` holds a one-line value; a multi-line value is written as

    name<<DELIMITER
    first line
    second line
    DELIMITER

A command that writes ``echo "title=$TITLE"`` with a title holding a newline would otherwise
add a line of the title's choosing, ``approved=true`` say, that a later ``when`` trusts. So:

- a name given twice is an error, so a smuggled line cannot replace one the step writes;
- a name must be a valid output name (the spec's ``outputName``), so a stray line of text is
  an error, not an output;
- a delimited value ends only at a line that is exactly its delimiter; a value line holding
  the delimiter anywhere, or a file that ends before the delimiter, is an error. A delimiter
  chosen at random per write (as GitHub's own toolkit does) cannot be guessed by the value;
- lines are split on ``\\n`` only: ``\\r``, ``\\u2028`` and the like are part of a value;
- blank lines are ignored.

The shell processor reads the file with :func:`parse`, locally and in an Argo pod alike.
"""

from __future__ import annotations

import re

#: The spec's ``outputName`` (engine/flowspec.schema.json); a test keeps the two equal.
NAME_PATTERN = r"^[a-zA-Z][a-zA-Z0-9_]*$"
_NAME = re.compile(NAME_PATTERN)
#: A delimiter is one word: anything but whitespace, so no invisible difference can hide one.
_DELIMITER = re.compile(r"\S+")


class OutputFileError(ValueError):
    """The file is not unambiguous ``name=value`` / ``name<<DELIMITER`` lines."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"$FLOWSPEC_OUTPUT line {line}: {message}")
        self.line = line


def parse(text: str) -> dict[str, str]:
    """Every output the file names, by name; OutputFileError for the first ambiguity."""
    values: dict[str, str] = {}
    first_line: dict[str, int] = {}
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the newline that ends the last line starts no line of its own
    i = 0
    while i < len(lines):
        line = lines[i]
        number = i + 1
        i += 1
        if not line.strip():
            continue
        name, separator, rest = _split(line)
        if separator is None:
            raise OutputFileError(number, f"expected name=value or name<<DELIMITER, got "
                                          f"{_show(line)}")
        if not _NAME.match(name):
            raise OutputFileError(number, f"{_show(name)} is not a valid output name (a letter, "
                                          "then letters, digits or '_')")
        if name in values:
            raise OutputFileError(number, f"output '{name}' is given twice (first on line "
                                          f"{first_line[name]}); write each output once")
        if separator == "=":
            value = rest
        else:
            value, i = _delimited(name, rest, lines, number)
        values[name] = value
        first_line[name] = number
    return values


def _split(line: str) -> tuple[str, str | None, str]:
    """(name, separator, rest): the separator is whichever of ``=`` and ``<<`` comes first."""
    equals = line.find("=")
    heredoc = line.find("<<")
    if heredoc >= 0 and (equals < 0 or heredoc < equals):
        return line[:heredoc], "<<", line[heredoc + 2:]
    if equals >= 0:
        return line[:equals], "=", line[equals + 1:]
    return line, None, ""


def _delimited(name: str, delimiter: str, lines: list[str], opened: int) -> tuple[str, int]:
    """The value that follows ``name<<DELIMITER`` on line ``opened``, and the index after it."""
    if not _DELIMITER.fullmatch(delimiter):
        raise OutputFileError(opened, f"output '{name}': the delimiter after '<<' must be one "
                                      f"word without spaces, got {_show(delimiter)}")
    body: list[str] = []
    for i in range(opened, len(lines)):
        line = lines[i]
        if line == delimiter:
            return "\n".join(body), i + 1
        if delimiter in line:
            raise OutputFileError(i + 1, f"the value of output '{name}' contains its delimiter "
                                         f"{delimiter!r}; choose a delimiter the value cannot "
                                         "hold (a random one)")
        body.append(line)
    raise OutputFileError(opened, f"output '{name}' is never closed: no line {delimiter!r} "
                                  "follows it")


def _show(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")
