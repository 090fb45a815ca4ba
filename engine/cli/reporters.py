"""Diagnostic renderers: one class per format, chosen through REPORTERS (check-jsonschema's way).

Every format is drawn from the same list of Diagnostic records.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import IO, Any

from engine.diagnostics import CODES, Diagnostic
from engine.source import Source

SourceLookup = Callable[[str], Source | None]


def _text(diags: Sequence[Diagnostic], files: int, out: IO[str], sources: SourceLookup) -> None:
    color = out.isatty() and not os.environ.get("NO_COLOR")
    red, yellow, dim, bold, reset = (("\x1b[31m", "\x1b[33m", "\x1b[2m", "\x1b[1m", "\x1b[0m")
                                     if color else ("",) * 5)
    for d in diags:
        tint = red if d.severity == "error" else yellow
        sev = f"{tint}{d.severity}{reset}"
        out.write(f"{bold}{d.file}:{d.line}:{d.column}{reset}: {sev}: {d.message} [{d.code}]\n")
        source = sources(d.file)
        line = source.line_text(d.line) if source else ""
        if line:
            width = (d.end_column - d.column) if d.end_line == d.line else len(line) - d.column + 1
            gutter = f"{d.line:>4} | "
            out.write(f"{dim}{gutter}{reset}{line}\n")
            caret = " " * (d.column - 1) + "^" + "~" * max(0, min(width, 200) - 1)
            out.write(f"{dim}{' ' * (len(gutter) - 2)}| {reset}{tint}{caret}{reset}\n")
        if d.hint:
            out.write(f"     = hint: {d.hint}\n")
    errors = sum(d.severity == "error" for d in diags)
    warnings = len(diags) - errors
    if diags:
        out.write(f"{errors} error(s), {warnings} warning(s) in {files} file(s)\n")
    else:
        out.write(f"{files} file(s) valid\n")


def _json(diags: Sequence[Diagnostic], files: int, out: IO[str], sources: SourceLookup) -> None:
    json.dump([d.to_dict() for d in diags], out, indent=2)
    out.write("\n")


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _github(diags: Sequence[Diagnostic], files: int, out: IO[str], sources: SourceLookup) -> None:
    for d in diags:
        message = d.message + (f" ({d.hint})" if d.hint else "")
        props = (f"file={_escape_property(d.file)},line={d.line},col={d.column},"
                 f"endLine={d.end_line},endColumn={d.end_column},title={_escape_property(d.code)}")
        out.write(f"::{d.severity} {props}::{_escape_data(message)}\n")


def _sarif(diags: Sequence[Diagnostic], files: int, out: IO[str], sources: SourceLookup) -> None:
    used = sorted({d.code for d in diags})
    rules = [{
        "id": c, "name": CODES[c].title if c in CODES else c,
        "shortDescription": {"text": CODES[c].title if c in CODES else c},
        "fullDescription": {"text": CODES[c].explanation if c in CODES else c},
        "defaultConfiguration": {"level": CODES[c].severity if c in CODES else "error"},
        "helpUri": f"https://flowspec.dev/codes/{c}",
    } for c in used]
    results: list[dict[str, Any]] = [{
        "ruleId": d.code,
        "level": d.severity,
        "message": {"text": d.message + (f" Hint: {d.hint}" if d.hint else "")},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": d.file},
            "region": {"startLine": d.line, "startColumn": d.column,
                       "endLine": d.end_line, "endColumn": d.end_column},
        }}],
    } for d in diags]
    json.dump({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "flowspec", "informationUri": "https://flowspec.dev",
                                       "rules": rules}},
                  "results": results}],
    }, out, indent=2)
    out.write("\n")


Reporter = Callable[[Sequence[Diagnostic], int, IO[str], SourceLookup], None]
REPORTERS: dict[str, Reporter] = {"text": _text, "json": _json, "github": _github, "sarif": _sarif}
