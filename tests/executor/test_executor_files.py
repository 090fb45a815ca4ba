"""Files: ``type: file`` params are paths checked before anything runs, and ``file`` outputs
are the files an attempt writes under ``$FLOWSPEC_OUTPUT_DIR``, kept per run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine import load_text, validate_text
from engine.local import run
from engine.params import ParamError

SPEC = """\
apiVersion: flowspec/v1
kind: Workflow
metadata: {name: files}
params:
  document: {type: file, required: true}
steps:
  - name: count
    processor: shell
    config:
      command: 'wc -l < "$DOC" | tr -d " " > "$FLOWSPEC_OUTPUT_DIR/lines"'
    env: {DOC: '${{ params.document }}'}
    outputs: {lines: file}
  - name: show
    processor: shell
    dependencies: [count]
    config: {command: 'echo "seen=$(cat "$LINES")" >> "$FLOWSPEC_OUTPUT"'}
    env: {LINES: '${{ steps.count.outputs.lines }}'}
    outputs: {seen: integer}
"""


@pytest.fixture
def document(tmp_path: Path) -> Path:
    path = tmp_path / "doc.txt"
    path.write_text("a\nb\nc\n")
    return path


def test_a_file_output_is_kept_in_the_run_folder_and_read_downstream(tmp_path: Path,
                                                                      document: Path) -> None:
    result = run(load_text(SPEC), {"document": "doc.txt"}, workdir=tmp_path)
    assert result.phase == "Succeeded", result.steps
    kept = tmp_path / ".flowspec" / "runs" / result.run_id / "count" / "lines"
    assert result.steps["count"].outputs["lines"] == str(kept)
    assert kept.read_text() == "3\n"
    assert result.steps["show"].outputs["seen"] == 3


def test_a_second_run_never_overwrites_the_first(tmp_path: Path, document: Path) -> None:
    first = run(load_text(SPEC), {"document": str(document)}, workdir=tmp_path)
    document.write_text("only one line\n")
    second = run(load_text(SPEC), {"document": str(document)}, workdir=tmp_path,
                 output_dir=tmp_path / "elsewhere")
    assert Path(first.steps["count"].outputs["lines"]).read_text() == "3\n"
    assert second.steps["count"].outputs["lines"] == str(
        tmp_path / "elsewhere" / second.run_id / "count" / "lines")
    assert Path(second.steps["count"].outputs["lines"]).read_text() == "1\n"


def test_a_file_output_never_written_fails_its_step_naming_it(tmp_path: Path,
                                                                document: Path) -> None:
    spec = SPEC.replace('> "$FLOWSPEC_OUTPUT_DIR/lines"', "> /dev/null")
    result = run(load_text(spec), {"document": str(document)}, workdir=tmp_path)
    count = result.steps["count"]
    assert count.phase == "Failed"
    assert "file output 'lines' was not written" in (count.error or "")
    assert "$FLOWSPEC_OUTPUT_DIR/lines" in (count.error or "")
    assert result.steps["show"].phase == "Omitted"


def test_each_attempt_starts_with_an_empty_folder(tmp_path: Path, document: Path) -> None:
    """Attempt 1 writes the file and fails; attempt 2 writes nothing: the leftover must not
    count as attempt 2's output."""
    spec = SPEC.replace(
        "command: 'wc -l < \"$DOC\" | tr -d \" \" > \"$FLOWSPEC_OUTPUT_DIR/lines\"'",
        "command: 'if [ -e \"$DOC.once\" ]; then exit 0; fi; touch \"$DOC.once\"; "
        "echo 1 > \"$FLOWSPEC_OUTPUT_DIR/lines\"; exit 1'").replace(
        "    outputs: {lines: file}\n", "    outputs: {lines: file}\n"
        "    retry: {limit: 1, on: failure}\n", 1)
    result = run(load_text(spec), {"document": str(document)}, workdir=tmp_path)
    count = result.steps["count"]
    assert count.attempts == 2
    assert count.phase == "Failed"
    assert "file output 'lines' was not written" in (count.error or "")


@pytest.mark.parametrize(("value", "problem"), [
    ("missing.txt", "missing.txt does not exist"),
    (".", ". is a folder"),
])
def test_a_file_param_must_name_a_readable_file(tmp_path: Path, value: str,
                                                 problem: str) -> None:
    with pytest.raises(ParamError, match=problem):
        run(load_text(SPEC), {"document": value}, workdir=tmp_path)


def test_a_condition_cannot_read_a_file() -> None:
    spec = SPEC.replace("    dependencies: [count]\n",
                        "    dependencies: [count]\n    when: params.document != ''\n")
    [problem] = validate_text(spec)
    assert problem.code == "FS312"
    assert "params.document is a file" in problem.message


def test_show_lists_the_files_of_a_run(tmp_path: Path, document: Path) -> None:
    (tmp_path / "spec.yaml").write_text(SPEC)
    flowspec = [sys.executable, "-m", "engine.cli.main"]
    db = f"sqlite:///{tmp_path}/state.db"
    done = subprocess.run([*flowspec, "run", "spec.yaml", "-p", "document=doc.txt", "--db", db,
                           "--format", "json"], cwd=tmp_path, capture_output=True, text=True,
                          check=True)
    run_id = json.loads(done.stdout)["run_id"]
    shown = subprocess.run([*flowspec, "show", run_id, "--db", db], cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout
    assert "count/lines  (2 bytes)" in shown
    listed = json.loads(subprocess.run([*flowspec, "show", run_id, "--db", db, "--format",
                                        "json"], cwd=tmp_path, capture_output=True, text=True,
                                       check=True).stdout)["files"]
    assert listed == [{"path": str(tmp_path / ".flowspec" / "runs" / run_id / "count" / "lines"),
                       "bytes": 2}]


def test_retry_writes_to_the_folder_the_run_chose(tmp_path: Path) -> None:
    """The run's folder is kept with the run: retry (which resumes) writes there, not to the
    default folder of wherever it is called from."""
    from engine.local import retry

    spec = """\
apiVersion: flowspec/v1
kind: Workflow
metadata: {name: again}
steps:
  - name: flaky
    processor: shell
    config:
      command: 'test -e "$MARK" || { touch "$MARK"; exit 1; }; echo ok > "$FLOWSPEC_OUTPUT_DIR/note"'
    env: {MARK: '%s'}
    outputs: {note: file}
""" % (tmp_path / "mark")
    db = f"sqlite:///{tmp_path}/state.db"
    chosen = tmp_path / "kept"
    first = run(load_text(spec), store=db, workdir=tmp_path, output_dir=chosen)
    assert first.steps["flaky"].phase == "Failed"
    again = retry(first.run_id, store=db)
    assert again.phase == "Succeeded"
    note = chosen / first.run_id / "flaky" / "note"
    assert again.steps["flaky"].outputs["note"] == str(note)
    assert note.read_text() == "ok\n"
    assert not (tmp_path / ".flowspec" / "runs").exists()
