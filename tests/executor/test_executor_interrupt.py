"""Ctrl-C, then ``flowspec resume``: the run finishes as if never stopped (issue 12, item 2).

Before, the attempt Ctrl-C cut short ended the step in Error unless its retry policy covered
errors, the run ended in Error, and a second resume said "already finished". Now the cut-short
attempt is recorded (Error, Interrupted) without being charged to the retry limit and the
step runs again; ``on_interrupt: fail`` keeps a step from running twice.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engine.store import open_store

ROOT = Path(__file__).resolve().parents[2]
SPEC = """\
apiVersion: flowspec/v1
kind: Workflow
metadata: {{name: stoppable}}
params:
  folder: {{type: string}}
steps:
  - name: slow
    processor: shell
    {on_interrupt}
    env: {{FOLDER: "${{{{ params.folder }}}}"}}
    config:
      command: 'echo run >> "$FOLDER/slow.runs"; [ -e "$FOLDER/go" ] || sleep 60'
  - name: after
    processor: shell
    dependencies: [slow]
    env: {{FOLDER: "${{{{ params.folder }}}}"}}
    config: {{command: 'echo run >> "$FOLDER/after.runs"'}}
"""


def _flowspec(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "engine.cli.main", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stop_during_slow(tmp_path: Path, on_interrupt: str) -> tuple[str, str]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.format(on_interrupt=on_interrupt))
    db = f"sqlite:///{tmp_path}/state.db"
    proc = _flowspec("run", str(spec), "-p", f"folder={tmp_path}", "--db", db, cwd=tmp_path)
    runs = tmp_path / "slow.runs"
    deadline = time.monotonic() + 60
    while not runs.exists():
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    store = open_store(db)
    (run,) = store.list_runs()
    store.close()
    (tmp_path / "go").touch()  # the next attempt of slow finishes at once
    return run[0].run_id, db


def test_a_step_cut_short_by_ctrl_c_runs_again_and_the_run_succeeds(tmp_path: Path) -> None:
    run_id, db = _stop_during_slow(tmp_path, "")
    resumed = _flowspec("resume", run_id, "--db", db, cwd=tmp_path)
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    store = open_store(db)
    state = store.load_run(run_id)
    store.close()
    assert state.run.phase == "Succeeded"
    slow = state.attempts["slow"]
    assert [(t.phase, t.error_type, t.final) for t in slow] == [
        ("Error", "Interrupted", False), ("Succeeded", None, True)]
    assert "stopped (Ctrl-C or a signal)" in (slow[0].error or "")
    assert (tmp_path / "slow.runs").read_text().split() == ["run", "run"]
    assert (tmp_path / "after.runs").read_text().split() == ["run"]
    again = _flowspec("resume", run_id, "--db", db, cwd=tmp_path)
    _, err = again.communicate(timeout=60)
    assert again.returncode == 2 and "already finished" in err


def test_on_interrupt_fail_keeps_a_step_from_running_twice(tmp_path: Path) -> None:
    run_id, db = _stop_during_slow(tmp_path, "on_interrupt: fail")
    resumed = _flowspec("resume", run_id, "--db", db, cwd=tmp_path)
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 1, err
    store = open_store(db)
    state = store.load_run(run_id)
    store.close()
    assert state.nodes["slow"].phase == "Error"
    assert "on_interrupt: fail" in (state.nodes["slow"].message or "")
    assert state.nodes["after"].phase == "Omitted"
    assert (tmp_path / "slow.runs").read_text().split() == ["run"]
    assert not (tmp_path / "after.runs").exists()


@pytest.mark.parametrize("value", ["retry", "fail"])
def test_on_interrupt_is_part_of_the_language(value: str) -> None:
    from engine.validation import load_spec_text

    spec = load_spec_text(SPEC.format(on_interrupt=f"on_interrupt: {value}"))
    assert spec.steps[0].on_interrupt == value
