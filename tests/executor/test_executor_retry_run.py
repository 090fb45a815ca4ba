"""``flowspec retry RUN_ID``: a run that failed on a step, fixed in between, is turned into
Succeeded without running again the steps that had succeeded (issue 12, item 3)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.store import open_store

SPEC = """\
apiVersion: flowspec/v1
kind: Workflow
metadata: {name: flaky}
params:
  folder: {type: string}
env:
  FOLDER: ${{ params.folder }}
steps:
  - {name: a, processor: shell, config: {command: 'echo a >> "$FOLDER/runs"'}}
  - name: b
    processor: shell
    dependencies: [a]
    config: {command: 'echo b >> "$FOLDER/runs"; test -e "$FOLDER/fixed"'}
  - {name: c, processor: shell, dependencies: [a],
     config: {command: 'echo c >> "$FOLDER/runs"'}}
  - {name: d, processor: shell, dependencies: [b, c],
     config: {command: 'echo d >> "$FOLDER/runs"'}}
finally:
  - {name: report, processor: shell, config: {command: 'echo report >> "$FOLDER/runs"'}}
"""


@pytest.fixture
def failed_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
               capsys: pytest.CaptureFixture[str]) -> tuple[str, str, Path]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.yaml").write_text(SPEC)
    db = f"sqlite:///{tmp_path}/state.db"
    assert main(["run", "spec.yaml", "-p", f"folder={tmp_path}", "--db", db]) == 1
    capsys.readouterr()
    assert main(["runs", "--db", db, "--format", "json"]) == 0
    run_id = json.loads(capsys.readouterr().out)[0]["run_id"]
    return run_id, db, tmp_path


def _runs(folder: Path) -> list[str]:
    return (folder / "runs").read_text().split()


def test_retry_runs_the_failed_part_only_and_keeps_the_history(
        failed_run: tuple[str, str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    run_id, db, folder = failed_run
    assert sorted(_runs(folder)) == ["a", "b", "c", "report"]
    (folder / "fixed").touch()
    assert main(["retry", run_id[:-10], "--db", db, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["phase"] == "Succeeded"
    assert {n: s["phase"] for n, s in document["steps"].items()} == {
        "a": "Succeeded", "b": "Succeeded", "c": "Succeeded", "d": "Succeeded",
        "report": "Succeeded"}
    assert sorted(_runs(folder)) == ["a", "b", "b", "c", "d", "report", "report"]
    store = open_store(db)
    state = store.load_run(run_id)
    store.close()
    assert [(t.attempt, t.phase) for t in state.attempts["b"]] == [(1, "Failed"),
                                                                   (2, "Succeeded")]
    assert [t.attempt for t in state.attempts["a"]] == [1]
    assert state.run.phase == "Succeeded"
    assert main(["retry", run_id, "--db", db]) == 2  # nothing failed now
    assert "nothing to retry" in capsys.readouterr().err


def test_retry_from_a_step_runs_it_and_what_follows(
        failed_run: tuple[str, str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    run_id, db, folder = failed_run
    (folder / "fixed").touch()
    assert main(["retry", run_id, "--from", "c", "--db", db]) == 1  # b still Failed: d omitted
    assert sorted(_runs(folder)) == ["a", "b", "c", "c", "report", "report"]
    capsys.readouterr()
    assert main(["retry", run_id, "--from", "cc", "--db", db]) == 2
    assert "did you mean 'c'?" in capsys.readouterr().err
    assert main(["retry", run_id, "--db", db]) == 0
    assert sorted(_runs(folder)) == ["a", "b", "b", "c", "c", "d", "report", "report",
                                     "report"]
    capsys.readouterr()
    assert main(["runs", "--db", db, "--format", "json"]) == 0
    (listed,) = json.loads(capsys.readouterr().out)
    assert listed["phase"] == "Succeeded"
    assert listed["steps"] == {"Succeeded": 5}
