"""``flowspec cancel RUN_ID`` from another terminal (issue 12, item 5): the running attempt is
recorded Failed and its processes are gone, nothing new starts, the finally steps run (not
with ``--terminate``), and the run ends Failed, as ``argo stop`` leaves a workflow."""

from __future__ import annotations

import json
import os
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
metadata: {name: cancellable}
params:
  folder: {type: string}
env:
  FOLDER: ${{ params.folder }}
steps:
  - name: slow
    processor: shell
    config: {command: 'echo $$ > "$FOLDER/slow.pid"; sleep 60; echo late > "$FOLDER/late"'}
  - {name: next, processor: shell, dependencies: [slow],
     config: {command: 'touch "$FOLDER/next"'}}
finally:
  - {name: cleanup, processor: shell, config: {command: 'touch "$FOLDER/cleanup"'}}
"""


def _flowspec(*args: str, cwd: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "engine.cli.main", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _alive(pid: int) -> bool:
    """Running, not a zombie (an orphan's parent may be a PID 1 that never reaps)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _running(tmp_path: Path) -> tuple[subprocess.Popen[str], str, str]:
    (tmp_path / "spec.yaml").write_text(SPEC)
    db = f"sqlite:///{tmp_path}/state.db"
    proc = _flowspec("run", "spec.yaml", "-p", f"folder={tmp_path}", "--db", db,
                     "--format", "json", cwd=tmp_path)
    deadline = time.monotonic() + 60
    while not (tmp_path / "slow.pid").exists():
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    store = open_store(db)
    ((run, _),) = store.list_runs()
    store.close()
    return proc, run.run_id, db


@pytest.mark.parametrize("terminate", [False, True])
def test_cancel_stops_a_run_another_process_is_running(tmp_path: Path, terminate: bool) -> None:
    proc, run_id, db = _running(tmp_path)
    pid = int((tmp_path / "slow.pid").read_text())
    cancel = _flowspec("cancel", run_id[:-8], "--db", db,
                       *(["--terminate"] if terminate else []), cwd=tmp_path)
    out, err = cancel.communicate(timeout=90)
    assert cancel.returncode == 0, err
    assert f"run {run_id} Failed" in out
    run_out, run_err = proc.communicate(timeout=60)
    assert proc.returncode == 1, run_err
    document = json.loads(run_out)
    assert document["phase"] == "Failed"
    assert document["message"].startswith("stopped by flowspec cancel")
    assert document["steps"]["slow"]["phase"] == "Failed"
    assert "next" not in document["steps"] or document["steps"]["next"]["phase"] != "Succeeded"
    assert not _alive(pid)
    assert not (tmp_path / "late").exists() and not (tmp_path / "next").exists()
    assert (tmp_path / "cleanup").exists() is (not terminate)
    again = _flowspec("cancel", run_id, "--db", db, cwd=tmp_path)
    _, err = again.communicate(timeout=60)
    assert again.returncode == 2 and "already finished (Failed)" in err


def test_cancel_of_an_interrupted_run_stops_it_here(tmp_path: Path) -> None:
    proc, run_id, db = _running(tmp_path)
    proc.kill()  # kill -9: the run is left Running with a dead lease holder
    proc.communicate(timeout=60)
    pid = int((tmp_path / "slow.pid").read_text())
    cancel = _flowspec("cancel", run_id, "--db", db, cwd=tmp_path)
    out, err = cancel.communicate(timeout=90)
    assert cancel.returncode == 0, err
    assert f"run {run_id} Failed" in out
    assert not _alive(pid)  # the killed runner's command was stopped first
    assert (tmp_path / "cleanup").exists() and not (tmp_path / "next").exists()
    store = open_store(db)
    state = store.load_run(run_id)
    store.close()
    assert state.run.phase == "Failed"
    assert state.nodes["slow"].phase == "Failed"
