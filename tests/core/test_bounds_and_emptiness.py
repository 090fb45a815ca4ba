"""Bounded work and nothing silent (issue 10, items 7 to 9): the validator cannot be stalled by
a big condition, a flood of values or a pipe; a folder or store that holds nothing is an
error, not a pass; odd params get a clear message, not an internal error."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest

from engine import loader
from engine.loader import MAX_NODES, load_text
from engine.validation import check_document, validate_file

REPO = Path(__file__).resolve().parents[2]
HEAD = "apiVersion: flowspec/v1\nkind: Workflow\nmetadata: {name: t}\n"


def _flowspec(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "engine.cli.main", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120, check=False)


def test_a_condition_with_thousands_of_problems_rebuilds_its_offsets_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    items = ", ".join(str(i) for i in range(8000))
    text = (HEAD + "params:\n  x: {type: string, default: a}\nsteps:\n"
            f"  - name: a\n    processor: noop\n    when: params.x in [{items}]\n")
    calls = []
    original = loader._value_offsets
    monkeypatch.setattr(loader, "_value_offsets",
                        lambda *a: calls.append(1) or original(*a))
    doc, _ = load_text(text)
    assert doc is not None
    diagnostics = check_document(doc)[1]
    assert len(diagnostics) == 8000  # one type error per list item, each placed on its item
    assert len({(d.line, d.column) for d in diagnostics}) == 8000
    assert len(calls) == 1


def test_a_flood_of_values_is_refused_before_it_is_built() -> None:
    text = HEAD + "steps: [" + ",".join(["1"] * (MAX_NODES + 1)) + "]\n"
    tracemalloc.start()
    try:
        doc, diagnostics = load_text(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert doc is None
    assert [d.code for d in diagnostics] == ["FS010"]
    assert "more than 1,000,000 YAML values" in diagnostics[0].message
    assert peak < 64 * 1024 * 1024  # building it would take gigabytes


def test_many_separators_in_text_are_not_mistaken_for_values() -> None:
    command = "echo " + ":-," * (MAX_NODES // 2)
    text = HEAD + f"steps:\n  - name: a\n    processor: shell\n    config: {{command: '{command}'}}\n"
    doc, diagnostics = load_text(text)
    assert doc is not None and diagnostics == []


def test_a_pipe_is_refused_without_waiting_on_it(tmp_path: Path) -> None:
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    proc = _flowspec("validate", str(fifo))  # a hang fails on the timeout
    assert proc.returncode == 1
    assert "not a regular file [FS010]" in proc.stdout


def test_an_empty_folder_is_an_error_not_a_pass(tmp_path: Path) -> None:
    (tmp_path / "notes.yaml").write_text("a: 1\n")
    proc = _flowspec("validate", str(tmp_path))
    assert proc.returncode == 2
    assert "no flowspec spec in the folder" in proc.stderr


def test_an_unreadable_subfolder_is_an_error_even_beside_specs(tmp_path: Path) -> None:
    from engine.validation import NothingToCheck, expand_paths

    (tmp_path / "a.yaml").write_text(HEAD)

    def denied(top: str, onerror: object = None) -> object:
        assert callable(onerror)
        onerror(PermissionError(13, "Permission denied", str(tmp_path / "locked")))
        yield str(tmp_path), [], ["a.yaml"]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(os, "walk", denied)
        with pytest.raises(NothingToCheck, match="cannot read the folder .*locked"):
            list(expand_paths([str(tmp_path)]))


def test_an_empty_file_is_not_taken_as_a_new_store(tmp_path: Path) -> None:
    store = tmp_path / "state.db"
    store.write_bytes(b"")
    spec = REPO / "specs" / "examples" / "hello.yaml"
    proc = _flowspec("run", str(spec), "--db", f"sqlite:///{store}", cwd=tmp_path)
    assert proc.returncode == 2
    assert "is empty, so it is not a flowspec run store" in proc.stderr
    assert store.read_bytes() == b""


def test_the_reserved_null_text_is_a_clear_param_error(tmp_path: Path) -> None:
    spec = tmp_path / "p.yaml"
    spec.write_text(HEAD + "params:\n  note: {type: string, default: hi}\n"
                    "steps:\n  - {name: a, processor: noop}\n")
    for command in ("compile", "plan", "run"):
        proc = _flowspec(command, str(spec), "-p", "note=__flowspec_null__", cwd=tmp_path)
        assert proc.returncode == 2, (command, proc.stderr)
        assert "reserved for null on Argo" in proc.stderr
        assert "internal error" not in proc.stderr


def test_a_path_that_is_not_utf8_is_a_clear_param_error(tmp_path: Path) -> None:
    spec = REPO / "specs" / "chargeback.yaml"
    bad = os.fsdecode(b"/tmp/claim-\xff\xfe.edi")
    for command in ("plan", "run"):
        proc = subprocess.run(
            [sys.executable, "-m", "engine.cli.main", command, str(spec), "-p",
             f"document={bad}", "--db" if command == "run" else "-p",
             f"sqlite:///{tmp_path}/s.db" if command == "run" else "max_lines=3"],
            capture_output=True, cwd=tmp_path, timeout=120, check=False)
        err = proc.stderr.decode()
        assert proc.returncode == 2, (command, err)
        assert "param 'document' is not UTF-8 text" in err


def test_a_spec_read_from_disk_and_from_text_has_the_same_size_bound(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text(HEAD + "# " + "x" * loader.MAX_BYTES + "\n")
    assert [d.code for d in validate_file(str(big))] == ["FS010"]
    assert [d.code for d in load_text(big.read_text())[1]] == ["FS010"]
