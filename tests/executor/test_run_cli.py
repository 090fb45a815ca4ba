"""flowspec run / runs / show / resume: exit codes, output formats, one-line errors."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from engine.cli.main import main
from engine.cli.progress import LiveProgress, PlainProgress
from engine.store import open_store
from engine.store.sql import SqlStore

OK = """\
apiVersion: flowspec/v1
kind: Workflow
metadata: {name: cli}
params:
  n: {type: integer, default: 2}
steps:
  - {name: a, processor: noop, config: {outputs: {v: 7}}, outputs: {v: integer}}
  - {name: b, processor: noop, dependencies: [a], when: params.n > 1}
"""
FAILING = OK + """\
  - {name: c, processor: "executor_procs:Raise", config: {message: "no luck"}}
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "ok.yaml").write_text(OK)
    (tmp_path / "failing.yaml").write_text(FAILING)
    return {"ok": str(tmp_path / "ok.yaml"), "failing": str(tmp_path / "failing.yaml"),
            "db": f"sqlite:///{tmp_path}/state.db", "tmp": str(tmp_path)}


def test_run_prints_progress_then_a_summary_and_exits_0(files: dict[str, str],
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", files["ok"], "--db", files["db"]]) == 0
    out, err = capsys.readouterr()
    assert "a: Succeeded" in err and "running cli as run cli-" in err
    assert "STEP" in out and "Succeeded" in out and '{"v": 7}' in out


def test_run_json_and_show_json_give_the_same_document(files: dict[str, str],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", files["failing"], "--db", files["db"], "--format", "json"]) == 1
    ran = json.loads(capsys.readouterr().out)
    assert ran["phase"] == "Failed"
    assert ran["steps"]["c"] | {"started_at": 0, "finished_at": 0, "duration": 0} == {
        "phase": "Failed", "attempts": 1, "outputs": {}, "error": "no luck",
        "started_at": 0, "finished_at": 0, "duration": 0}
    assert main(["show", ran["run_id"], "--db", files["db"], "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["run_id"] == ran["run_id"] and shown["phase"] == "Failed"
    assert {n: (s["phase"], s["attempts"], s["outputs"], s["error"])
            for n, s in shown["steps"].items()} == {
        n: (s["phase"], s["attempts"], s["outputs"], s["error"])
        for n, s in ran["steps"].items()}


def test_runs_lists_newest_first(files: dict[str, str],
                                 capsys: pytest.CaptureFixture[str]) -> None:
    main(["run", files["ok"], "--db", files["db"]])
    main(["run", files["failing"], "--db", files["db"]])
    capsys.readouterr()
    assert main(["runs", "--db", files["db"], "--format", "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["phase"] for r in rows] == ["Failed", "Succeeded"]
    assert rows[0]["steps"] == {"Failed": 1, "Succeeded": 2}
    assert main(["runs", "--db", files["db"]]) == 0
    assert "RUN ID" in capsys.readouterr().out


def test_show_events(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    main(["run", files["ok"], "--db", files["db"], "--format", "json"])
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    assert main(["show", run_id, "--db", files["db"], "--events"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[2] for line in lines] == ["created", "started", "finished", "started",
                                                   "finished", "ended"]


@pytest.mark.parametrize(("argv", "message"), [
    (["run", "{ok}", "-p", "n=two"], "param 'n' (integer): expected a whole number, got 'two'"),
    (["run", "{ok}", "-p", "m=1"], "unknown param 'm'"),
    (["run", "missing.yaml"], "no such spec file: missing.yaml"),
    (["show", "nope"], "no run 'nope'"),
    (["resume", "nope"], "no run 'nope'"),
    (["runs", "--db", "mysql://x@y/z"], "unsupported store URL"),
    (["show", "x", "--db", "sqlite:///{tmp}/typo.db"], "no run store at"),
])
def test_usage_errors_are_one_line_and_exit_2(argv: list[str], message: str,
                                              files: dict[str, str],
                                              capsys: pytest.CaptureFixture[str]) -> None:
    open_store(files["db"]).close()  # the store exists: only the run is unknown
    argv = [a.format(**files) for a in argv]
    if "--db" not in argv:
        argv += ["--db", files["db"]]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_number_param_too_wide_for_64_bits_stays_a_number(
        files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "number.yaml"
    spec.write_text(OK.replace("{type: integer, default: 2}", "{type: number, default: 2}"))
    wide = "9" * 30
    assert main(["run", str(spec), "--db", files["db"], "-p", f"n={wide}", "--format",
                 "json"]) == 0
    assert json.loads(capsys.readouterr().out)["steps"]["b"]["phase"] == "Succeeded"


SECRETS = """\
apiVersion: flowspec/v1
kind: Workflow
metadata: {name: secrets}
env:
  TOKEN: {secret: {name: deploy, key: token}}
  MAYBE: {secret: {name: maybe, key: x}, optional: true}
steps:
  - {name: a, processor: shell, config: {command: 'touch started'}}
  - name: b
    processor: noop
    env: {DB: {secret: {name: ledger-db, key: url}}}
"""


def test_run_refuses_to_start_without_its_secrets(files: dict[str, str], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """Every required secret is checked before the first step: one message naming each and
    its variable, exit 2, no step started and no run recorded."""
    spec = tmp_path / "secrets.yaml"
    spec.write_text(SECRETS)
    monkeypatch.chdir(tmp_path)
    for variable in ("DEPLOY_TOKEN", "LEDGER_DB_URL", "MAYBE_X"):
        monkeypatch.delenv(variable, raising=False)
    assert main(["run", str(spec), "--db", files["db"]]) == 2
    err = capsys.readouterr().err
    assert "2 secret(s) the run needs are not set, so nothing was run" in err
    assert "secret deploy/token: export DEPLOY_TOKEN=...  (read by a, b)" in err
    assert "secret ledger-db/url: export LEDGER_DB_URL=...  (read by b)" in err
    assert "maybe" not in err  # optional
    assert not (tmp_path / "started").exists()
    assert not Path(files["db"].removeprefix("sqlite:///")).exists()
    monkeypatch.setenv("DEPLOY_TOKEN", "t0ken-value")
    monkeypatch.setenv("LEDGER_DB_URL", "sqlite://")
    assert main(["run", str(spec), "--db", files["db"]]) == 0


def test_resume_refuses_a_finished_run(files: dict[str, str],
                                       capsys: pytest.CaptureFixture[str]) -> None:
    main(["run", files["ok"], "--db", files["db"], "--format", "json"])
    run_id = json.loads(capsys.readouterr().out)["run_id"]
    assert main(["resume", run_id, "--db", files["db"]]) == 2
    assert "already finished (Succeeded)" in capsys.readouterr().err


def test_a_store_from_a_newer_flowspec_is_a_clear_error(files: dict[str, str],
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    from sqlalchemy import text

    store = SqlStore(files["db"])
    with store.engine.begin() as conn:
        conn.execute(text("UPDATE flowspec_alembic_version SET version_num = '0099_x'"))
    store.close()
    assert main(["run", files["ok"], "--db", files["db"]]) == 2
    assert "written by a newer flowspec" in capsys.readouterr().err


def test_progress_views_accept_every_event() -> None:
    for view in (PlainProgress(io.StringIO()), LiveProgress(io.StringIO())):
        view.run_started("r-1", "wf", 3, False)
        view.step_event("started", "a", "Running", 1, None)
        view.step_event("retrying", "a", "Failed", 1, "boom")
        view.step_event("started", "a", "Running", 2, None)
        view.step_event("finished", "a", "Succeeded", 2, None)
        view.step_event("decided", "b", "Skipped", 0, "when 'x' evaluated false")
        view.step_event("finished", "c(0:x)", "Error", 1, "bad\nthing")
        if isinstance(view, LiveProgress):
            assert view.counts == {"Succeeded": 1, "Skipped": 1}
            view._render()
        view.close()


def test_the_live_view_shows_each_running_steps_last_line() -> None:
    view = LiveProgress(io.StringIO())
    try:
        view.step_event("started", "talk", "Running", 1, None)
        view.step_output("talk", 1, "stdout", "working on   part 3")
        view.step_output("talk", 1, "stderr", "   ")  # a blank line leaves the last one
        screen = io.StringIO()
        Console(file=screen, width=100).print(view._render())
        assert "talk  " in screen.getvalue() and "working on part 3" in screen.getvalue()
        view.step_event("finished", "talk", "Succeeded", 1, None)
        assert view.last_line == {}
    finally:
        view.close()
