"""Property tests: whatever is done to a valid spec, validation answers with diagnostics.

Random edits of the shipped examples and the good corpus (a key deleted or duplicated, a
scalar changed to another type, dependencies rewired, text or bytes inserted, the file cut
short) must never raise: loading plus every pass returns a list of Diagnostics with sane
positions, and the CLI never prints an internal error. Bounded (200 examples each) so the
suite stays fast.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.cli.main import main
from engine.diagnostics import Diagnostic
from engine.expr.errors import ERROR_UNKNOWN_ENV
from engine.loader import load_text
from engine.validation import check_document, validate_file

REPO = Path(__file__).resolve().parents[2]
SPECS = sorted((REPO / "specs").glob("**/*.yaml")) + sorted(
    (Path(__file__).parent / "corpus" / "good").glob("*.yaml"))
TEXTS = [p.read_text(encoding="utf-8") for p in SPECS]
FUZZ = settings(max_examples=200, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.fixture(autouse=True, scope="module")
def _strict_and_importable() -> Iterator[None]:
    """Unknown expression nodes raise instead of passing quietly (pyflakes' switch), and the
    corpus processor is importable however pytest was started."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ERROR_UNKNOWN_ENV, "1")
        mp.syspath_prepend(str(REPO))
        yield


def validate_text(text: str) -> list[Diagnostic]:
    doc, diagnostics = load_text(text, "fuzz.yaml")
    if doc is not None:
        spec, more = check_document(doc)
        diagnostics = diagnostics + more
        spec.graph  # noqa: B018 - building the DAG must not fail on what validation accepted
    assert isinstance(diagnostics, list)
    lines = text.count("\n") + 1
    for d in diagnostics:
        assert isinstance(d, Diagnostic)
        assert 1 <= d.line <= lines + 1 and d.column >= 1, d
        assert (d.end_line, d.end_column) > (d.line, d.column), d
    return diagnostics


# --- mutations of the parsed document ------------------------------------------------------

Path_ = tuple[Any, ...]


def _paths(value: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from _paths(child, (*prefix, i))


def _at(data: Any, path: Path_) -> Any:
    for part in path:
        data = data[part]
    return data


#: Values a mutation writes into the document. The document is edited in place, so a container
#: must be a new object at every draw: ``st.just({})`` would hand every example the one same
#: dict, which the edits of one example then change for the next ones (and can make contain
#: itself, sending ``_paths`` into endless recursion): failures that do not replay.
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["on", "no", "010", "1.10", "${{ params.x }}", "a.Failed ||", "steps.",
                     "${{", "item", "workflow.status", "[]", "{}", "!", "&&", "x" * 70]),
    st.builds(list), st.builds(dict), st.lists(st.text(max_size=5), max_size=3),
)


@st.composite
def mutated_documents(draw: st.DrawFn) -> str:
    data = yaml.safe_load(draw(st.sampled_from(TEXTS)))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(data) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = _at(data, path[:-1])
        action = draw(st.sampled_from(["delete", "retype", "rewire", "copy"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "retype":
            parent[path[-1]] = draw(SCALARS)
        elif action == "copy":  # a subtree moved somewhere else
            parent[path[-1]] = copy.deepcopy(_at(data, draw(st.sampled_from(paths))))
        else:
            raw_steps = data.get("steps") if isinstance(data, dict) else None
            steps = [s for s in raw_steps if isinstance(s, dict)] if isinstance(raw_steps, list) else []
            if len(steps) >= 2:
                a, b = draw(st.sampled_from(steps)), draw(st.sampled_from(steps))
                names = [s.get("name") for s in steps]
                choice = draw(st.sampled_from(["swap", "cycle", "depends"]))
                if choice == "swap":
                    for key in ("dependencies", "depends"):
                        taken = a.pop(key, None), b.pop(key, None)
                        for step, value in zip((b, a), taken, strict=True):
                            if value is not None:
                                step[key] = value
                elif choice == "cycle":
                    a["dependencies"] = [b.get("name")]
                    b["dependencies"] = [a.get("name")]
                else:
                    a["depends"] = " || ".join(f"{n}.Failed" for n in names if isinstance(n, str))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


@FUZZ
@given(mutated_documents())
def test_mutated_documents_give_diagnostics(text: str) -> None:
    validate_text(text)


# --- mutations of the text -----------------------------------------------------------------

@st.composite
def mutated_texts(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(TEXTS))
    lines = text.split("\n")
    action = draw(st.sampled_from(["insert", "duplicate-line", "delete-line", "swap-lines",
                                   "unicode", "indent"]))
    i = draw(st.integers(0, len(lines) - 1))
    j = draw(st.integers(0, len(lines) - 1))
    if action == "insert":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.text(alphabet=st.sampled_from(list(":-[]{}&*!|>'\"#%@`,? \t\n"
                                                                      "abc01")), max_size=8)) \
            + text[at:]
    if action == "unicode":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.text(min_size=1, max_size=10)) + text[at:]
    if action == "duplicate-line":  # usually a duplicate key
        lines.insert(i, lines[i])
    elif action == "delete-line":
        del lines[i]
    elif action == "swap-lines":
        lines[i], lines[j] = lines[j], lines[i]
    else:
        lines[i] = " " * draw(st.integers(1, 6)) + lines[i]
    return "\n".join(lines)


@FUZZ
@given(mutated_texts())
def test_mutated_texts_give_diagnostics(text: str) -> None:
    validate_text(text)


@FUZZ
@given(st.sampled_from(TEXTS), st.data())
def test_truncated_at_any_byte(text: str, data: st.DataObject) -> None:
    raw = text.encode("utf-8")
    cut = data.draw(st.integers(0, len(raw)))
    found = _validate_bytes(raw[:cut])
    if cut == 0:
        assert [d.code for d in found] == ["FS005"]


@FUZZ
@given(st.sampled_from(TEXTS), st.binary(min_size=1, max_size=16), st.data())
def test_random_bytes_inserted(text: str, junk: bytes, data: st.DataObject) -> None:
    raw = text.encode("utf-8")
    at = data.draw(st.integers(0, len(raw)))
    _validate_bytes(raw[:at] + junk + raw[at:])


def _validate_bytes(raw: bytes) -> list[Diagnostic]:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder, "fuzz.yaml")
        path.write_bytes(raw)
        found = validate_file(str(path))
    assert all(isinstance(d, Diagnostic) for d in found)
    return found


# --- the command line never shows a traceback ----------------------------------------------

@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.one_of(mutated_documents(), mutated_texts()),
       st.sampled_from(["text", "json", "github", "sarif"]),
       st.sampled_from(["validate", "graph", "plan"]))
def test_cli_never_prints_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      text: str, fmt: str, command: str) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    args = [command, str(path)] + (["--format", fmt] if command == "validate" else [])
    code = main(args)
    out, err = capsys.readouterr()
    assert code in (0, 1), (code, err)
    assert "Traceback" not in out + err
    assert "internal error" not in err, err
