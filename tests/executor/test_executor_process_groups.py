"""Nothing of a shell attempt outlives it: timeouts, Ctrl-C, SIGTERM and kill -9 + resume.

Real commands, real SQLite stores and, where signals matter, the real CLI in a child process.
Each command records its shell's pid (its process group's id) and writes ``end`` only if it is
allowed to sleep its full length; the tests assert on those facts, never on durations.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from executor_helpers import spec_from

from engine import process_group
from engine.local import run
from engine.process_group import GroupId, identify
from engine.store import open_store

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")

SPEC = """\
apiVersion: flowspec/v1
kind: Workflow
metadata: {{name: groups}}
steps:
  - name: slow
    processor: shell
    {extra}
    env: {{DIR: "{dir}"}}
    config:
      command: |
        old=$(cat "$DIR/pid" 2>/dev/null)
        if [ -n "$old" ] && grep -qs '^State:[[:space:]]*[RSDT]' "/proc/$old/status"
        then echo overlap >> "$DIR/journal"
        fi
        echo $$ > "$DIR/pid"
        echo "start $$ $FLOWSPEC_OUTPUT" >> "$DIR/journal"
        sleep {sleep}
        echo "end $$" >> "$DIR/journal"
"""


def _spec(tmp: Path, extra: str = "", sleep: float = 30) -> str:
    return SPEC.format(extra=extra, dir=tmp, sleep=sleep)


def _journal(tmp: Path) -> list[list[str]]:
    path = tmp / "journal"
    return [line.split() for line in path.read_text().splitlines()] if path.exists() else []


def _starts(tmp: Path) -> list[int]:
    return [int(words[1]) for words in _journal(tmp) if words[0] == "start"]


def _group_alive(pgid: int) -> bool:
    """Whether the process ``pgid`` or any process of its group is alive (a zombie, dead but
    not reaped, is not)."""
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            stat = Path(f"/proc/{name}/stat").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2:].split()
        if pgid in (int(name), int(fields[2])) and fields[0] not in (b"Z", b"X"):
            return True
    return False


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    until = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > until:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def _cli(*args: str, cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "engine.cli.main", *args], cwd=cwd,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_timed_out_attempt_is_stopped_before_its_retry_starts(
        tmp_path: Path, db_url: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    spec = _spec(tmp_path, "timeout: 0.5s\n    retry: {limit: 1, on: failure}")
    result = run(spec_from(spec), store=db_url, workdir=work)
    assert result.steps["slow"].phase == "Failed"
    assert result.steps["slow"].attempts == 2
    assert "timed out after 0.5s" in (result.steps["slow"].error or "")
    first, second = _starts(tmp_path)
    assert not _group_alive(first) and not _group_alive(second)
    assert [words[0] for words in _journal(tmp_path)] == ["start", "start"]  # no overlap, no end
    # the outputs file lived in a folder of the attempt's own under the system's temp folder
    outputs = [Path(words[2]) for words in _journal(tmp_path)]
    assert all(p.parent.parent == Path(tempfile.gettempdir()) for p in outputs)
    assert not any(p.parent.exists() for p in outputs)
    assert list(work.iterdir()) == []


def test_the_workflow_timeout_stops_the_group_of_a_running_step(tmp_path: Path) -> None:
    result = run(spec_from("timeout: 0.5s\n" + _spec(tmp_path)), workdir=tmp_path)
    assert result.phase == "Failed"
    (pgid,) = _starts(tmp_path)
    assert not _group_alive(pgid)


def test_what_a_command_leaves_running_is_stopped_when_it_exits(tmp_path: Path) -> None:
    result = run(spec_from(f"""
apiVersion: flowspec/v1
kind: Workflow
metadata: {{name: leftovers}}
steps:
  - name: a
    processor: shell
    env: {{DIR: "{tmp_path}"}}
    config:
      command: |
        (sleep 30; echo late >> "$DIR/journal") &
        echo "start $$" >> "$DIR/journal"
        echo done
    outputs: {{stdout: string}}
"""), workdir=tmp_path)
    assert result.steps["a"].phase == "Succeeded"
    assert result.steps["a"].outputs["stdout"] == "done"
    (pgid,) = _starts(tmp_path)
    assert not _group_alive(pgid)
    assert [words[0] for words in _journal(tmp_path)] == ["start"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_stopping_flowspec_stops_the_running_command(
        tmp_path: Path, db_url: str, signum: int) -> None:
    (tmp_path / "spec.yaml").write_text(_spec(tmp_path))
    proc = _cli("run", "spec.yaml", "--db", db_url, cwd=tmp_path)
    _wait_for(lambda: bool(_starts(tmp_path)), "the command to start")
    (pgid,) = _starts(tmp_path)
    proc.send_signal(signum)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert not _group_alive(pgid)
    assert [words[0] for words in _journal(tmp_path)] == ["start"]
    store = open_store(db_url)
    try:
        [(record, _)] = store.list_runs(1)
        (attempt,) = store.load_run(record.run_id).attempts["slow"]
    finally:
        store.close()
    assert record.phase == "Interrupted"
    assert attempt.error_type == "Interrupted"


def test_resume_after_kill_9_stops_the_old_command_before_the_new_attempt(
        tmp_path: Path, db_url: str) -> None:
    (tmp_path / "spec.yaml").write_text(_spec(tmp_path, "retry: {limit: 1, on: error}", 3))
    proc = _cli("run", "spec.yaml", "--db", db_url, cwd=tmp_path)
    _wait_for(lambda: bool(_starts(tmp_path)), "the command to start")
    (old,) = _starts(tmp_path)
    store = open_store(db_url)
    try:
        _wait_for(lambda: bool(store.load_run(store.list_runs(1)[0][0].run_id).groups),
                  "the process group to be recorded")
        run_id = store.list_runs(1)[0][0].run_id
    finally:
        store.close()
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    assert _group_alive(old)  # a session of its own: flowspec's death does not end it

    resumed = _cli("resume", run_id, "--db", db_url, cwd=tmp_path)
    _, stderr = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, stderr
    assert not _group_alive(old)
    new = _starts(tmp_path)[1]
    assert [words[:2] for words in _journal(tmp_path)] == [
        ["start", str(old)], ["start", str(new)], ["end", str(new)]]
    store = open_store(db_url)
    try:
        state = store.load_run(run_id)
    finally:
        store.close()
    first, second = state.attempts["slow"]
    assert first.error_type == "Interrupted"
    assert f"its process group {old}, still running, was stopped" in (first.error or "")
    assert second.phase == "Succeeded"
    assert [g.pgid for g in state.groups[("slow", 1)]] == [old]
    # the killed process could not remove its attempt's folder; the resumed attempt's is gone
    first_dir, second_dir = (Path(words[2]).parent for words in _journal(tmp_path)[:2])
    assert first_dir.exists() and not second_dir.exists()
    shutil.rmtree(first_dir)


def _group(command: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(["sh", "-c", command], start_new_session=True)


def test_a_group_that_ignores_sigterm_is_killed() -> None:
    proc = _group("trap '' TERM; sleep 30 & sleep 30")
    try:
        _wait_for(lambda: _group_alive(proc.pid), "the group to start")
        process_group.terminate([proc.pid], grace=0.2)
        proc.wait(timeout=60)
        assert proc.returncode == -signal.SIGKILL
        assert not _group_alive(proc.pid)
    finally:
        proc.kill()
        proc.wait()


def test_resume_stops_only_the_group_it_recorded() -> None:
    proc = _group("sleep 30")
    try:
        me = identify(proc.pid)
        assert me.leader_start is not None and me.boot_id is not None
        other_start = GroupId(proc.pid, me.boot_id, me.leader_start - 1)
        other_boot = GroupId(proc.pid, "another-boot", me.leader_start)
        unknown = GroupId(proc.pid, None, None)
        assert process_group.stop_leftovers([other_start, other_boot, unknown]) == set()
        assert _group_alive(proc.pid)
        assert process_group.stop_leftovers([me]) == {proc.pid}
        proc.wait(timeout=60)
        assert not _group_alive(proc.pid)
        assert process_group.stop_leftovers([me]) == set()
    finally:
        proc.kill()
        proc.wait()
